package hub

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Presence: who is in a room, and how the members hear of changes.
//
// Announcing every join to every member costs N² frames when N users join
// one room, so changes are coalesced into diffs, as Phoenix Presence does.
// A change in a room that has been quiet for a whole interval goes out at
// once, so a small room feels instant; the changes after it wait for the
// presence clock, which sends each room that has changes one diff per
// interval. A user who joins and leaves between two diffs is in neither,
// unless another client read the member list in between.
//
// The clock is one goroutine per hub, parked while no room has anything to
// send; a room is on its list only while it is sending diffs, so an idle
// room costs nothing. The diff is the unit: a cluster layer can apply the
// joins and leaves of other nodes through presenceChangedLocked the same way.

// DefaultPresenceInterval is Config.PresenceInterval's default.
const DefaultPresenceInterval = time.Second

// DefaultPresenceNames is Config.PresenceNames's default.
const DefaultPresenceNames = 100

// presence counts one user's connections in the room, and in a cluster
// the other nodes where the user is present in it: the user is present
// while either is above zero.
type presence struct {
	name  string
	key   string // the lower-cased name: the roster's order
	conns int
	nodes int
}

// compare orders users by their lower-cased name, then by name, so that a
// cursor names a place in the list.
func (p *presence) compare(key, name string) int {
	return cmp.Or(strings.Compare(p.key, key), strings.Compare(p.name, name))
}

// change is a user's presence flipped since the room's last diff.
type change struct {
	name   string
	joined bool
	// reads and ownReads tell whether anyone but the user has read the
	// member list since the change: the roster's reads when it was made,
	// and how many of the reads since were the user's own.
	reads, ownReads uint64
}

// roster is a room's users and the changes its members have not yet heard
// of. It is guarded by the room's lock.
type roster struct {
	byUser map[string]*presence
	sorted []*presence // by compare: pages of names without sorting them all
	// pend holds, by user, the changes since the last diff; a second flip
	// of the same user cancels the first, unless another user has read the
	// member list in between (see presenceChangedLocked).
	pend map[string]change
	// reads counts the member lists handed to clients (a join's members,
	// who), which show pending changes before any diff does.
	reads  uint64
	sent   bool // a diff went out at once since the clock's last tick
	queued bool // the room is on the presence clock's list
}

func (ro *roster) count() int { return len(ro.byUser) }

// addUser records a new user, keeping the roster sorted.
func (ro *roster) addUser(user, name string) *presence {
	p := &presence{name: name, key: strings.ToLower(name)}
	ro.byUser[user] = p
	i, _ := slices.BinarySearchFunc(ro.sorted, p, func(q, p *presence) int { return q.compare(p.key, p.name) })
	ro.sorted = slices.Insert(ro.sorted, i, p)
	return p
}

// removeUser forgets a user whose last connection left.
func (ro *roster) removeUser(user string, p *presence) {
	delete(ro.byUser, user)
	i, _ := slices.BinarySearchFunc(ro.sorted, p, func(q, p *presence) int { return q.compare(p.key, p.name) })
	// Two users may share a display name; find this one among them.
	for ; i < len(ro.sorted); i++ {
		if ro.sorted[i] == p {
			ro.sorted = slices.Delete(ro.sorted, i, i+1)
			return
		}
	}
}

// page returns up to n names that sort after cursor.
func (ro *roster) page(cursor string, n int) []string {
	key := strings.ToLower(cursor)
	i, _ := slices.BinarySearchFunc(ro.sorted, cursor, func(q *presence, _ string) int { return q.compare(key, cursor) })
	for i < len(ro.sorted) && ro.sorted[i].compare(key, cursor) == 0 {
		i++
	}
	rest := ro.sorted[i:]
	out := make([]string, 0, min(n, len(rest)))
	for _, p := range rest[:min(n, len(rest))] {
		out = append(out, p.name)
	}
	return out
}

// presenceChangedLocked records that user became present in the room
// (joined) or left it, and tells the members at once if the room has been
// quiet, or else leaves it to the clock. skip is not told of an immediate
// diff: the joiner, who learns the members from its join.
func (r *room) presenceChangedLocked(h *Hub, user, name string, joined bool, skip Subscriber) {
	ro := &r.roster
	prior, ok := ro.pend[user]
	switch {
	case ok && ro.reads-prior.reads == prior.ownReads:
		// Nobody else has seen the first flip: the members' lists are
		// right without either.
		delete(ro.pend, user)
	default:
		// A member who read the list after the first flip has the user
		// in the state it made, so the second flip must reach it. The
		// others apply it as a set operation that changes nothing.
		if ro.pend == nil {
			ro.pend = make(map[string]change)
		}
		ro.pend[user] = change{name: name, joined: joined, reads: ro.reads}
	}
	if ro.queued {
		return
	}
	r.flushLocked(h, skip)
	ro.sent, ro.queued = true, true
	h.clock.enqueue(r)
}

// tickLocked is the clock's visit: it sends the room's pending diff, unless
// one went out at once since the last tick, and reports whether the room
// stays on the clock's list. A room with nothing to send leaves it.
func (r *room) tickLocked(h *Hub) bool {
	ro := &r.roster
	switch {
	case ro.sent:
		ro.sent = false
		return true
	case r.flushLocked(h, nil):
		return true
	}
	ro.queued = false
	return false
}

// flushLocked sends the pending changes as one diff to every member but
// skip, and reports whether there were any. Leaves are listed first, so
// that a diff cut at PresenceNames still removes who is gone; the user
// count is always whole.
func (r *room) flushLocked(h *Hub, skip Subscriber) bool {
	ro := &r.roster
	if len(ro.pend) == 0 {
		return false
	}
	limit := h.cfg.PresenceNames
	var joins, leaves []string
	for _, c := range ro.pend {
		if !c.joined && len(leaves) < limit {
			leaves = append(leaves, c.name)
		}
	}
	for _, c := range ro.pend {
		if c.joined && len(joins)+len(leaves) < limit {
			joins = append(joins, c.name)
		}
	}
	ro.pend = nil
	slices.Sort(joins)
	slices.Sort(leaves)
	r.fanoutLocked(h, &Event{Kind: KindPresence, Room: r.name, Presence: &Presence{Joins: joins, Leaves: leaves, Users: ro.count()}}, skip)
	return true
}

// clock sends the coalesced presence diffs of a hub's rooms, one tick per
// interval while any room has diffs to send.
type clock struct {
	every time.Duration
	kick  chan struct{} // a room joined an empty list
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	mu    sync.Mutex // taken under a room's lock, never the reverse
	rooms []*room
}

func newClock(every time.Duration) *clock {
	return &clock{every: every, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

func (c *clock) enqueue(r *room) {
	c.mu.Lock()
	first := len(c.rooms) == 0
	c.rooms = append(c.rooms, r)
	c.mu.Unlock()
	if first {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// run ticks while rooms are queued and parks while none is, until Close.
func (c *clock) run(h *Hub) {
	defer close(c.done)
	t := time.NewTimer(c.every)
	t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		for busy := true; busy; {
			t.Reset(c.every)
			select {
			case <-c.stop:
				t.Stop()
				return
			case <-t.C:
			}
			busy = c.tick(h)
		}
	}
}

// tick visits every queued room once and reports whether any stays queued.
func (c *clock) tick(h *Hub) bool {
	c.mu.Lock()
	rooms := c.rooms
	c.rooms = nil
	c.mu.Unlock()
	keep := rooms[:0]
	for _, r := range rooms {
		r.mu.Lock()
		if r.tickLocked(h) {
			keep = append(keep, r)
		}
		r.mu.Unlock()
	}
	clear(rooms[len(keep):])
	c.mu.Lock()
	c.rooms = append(c.rooms, keep...)
	busy := len(c.rooms) > 0
	c.mu.Unlock()
	return busy
}

// Close stops the presence clock; changes not yet sent are not sent. It
// may be called more than once.
func (h *Hub) Close() {
	h.clock.once.Do(func() { close(h.clock.stop) })
	<-h.clock.done
}

// MembersAfter returns the count of users present in room and the names of
// up to n of them that sort after cursor (case-insensitively, then
// exactly), so that a long list is read in pages without ever being built
// whole. The empty cursor starts at the beginning. reader is the
// subscriber the names are for, or nil when they go to no client: a
// client's list may show changes not yet sent as a diff, which then may
// no longer cancel out.
func (h *Hub) MembersAfter(room, cursor string, n int, reader Subscriber) (names []string, users int) {
	r := h.lookup(room)
	if r == nil {
		return nil, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if reader != nil && n > 0 {
		r.roster.read(reader.User())
	}
	return r.roster.page(cursor, n), r.roster.count()
}

// read records that user was handed the member list.
func (ro *roster) read(user string) {
	ro.reads++
	if c, ok := ro.pend[user]; ok {
		c.ownReads++
		ro.pend[user] = c
	}
}
