package hub

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatd/chatd/store"
)

// room is one room's members, presence and sequence.
type room struct {
	name string

	mu      sync.Mutex
	members []Subscriber // a slice, so that fan-out is a linear scan
	pos     map[Subscriber]int
	users   map[string]*presence
	seq     uint64 // the last sequence number given out
	fanned  uint64 // the last sequence number offered to the members
	pending int    // messages given a number but not yet stored
	dead    bool   // removed from its shard; a new room object takes its place
	dedup   dedup
}

// presence counts one user's connections in the room.
type presence struct {
	name  string
	conns int
}

func newRoom(name string) *room {
	return &room{name: name, pos: make(map[Subscriber]int), users: make(map[string]*presence)}
}

func (r *room) addLocked(h *Hub, s Subscriber) int {
	if _, ok := r.pos[s]; ok {
		return len(r.users)
	}
	r.pos[s] = len(r.members)
	r.members = append(r.members, s)
	p := r.users[s.User()]
	if p == nil {
		p = &presence{name: s.Name()}
		r.users[s.User()] = p
		r.fanoutLocked(h, &Event{Kind: KindPresence, Room: r.name, From: p.name, Joined: true}, s)
	}
	p.conns++
	return len(r.users)
}

// remove takes s out of the room and reports whether the room can be
// freed: no members, and no message waiting for the store.
func (r *room) remove(h *Hub, s Subscriber) (empty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.pos[s]
	if !ok {
		return r.emptyLocked()
	}
	last := len(r.members) - 1
	moved := r.members[last]
	r.members[i] = moved
	r.pos[moved] = i
	r.members[last] = nil
	r.members = r.members[:last]
	delete(r.pos, s)
	if p := r.users[s.User()]; p != nil {
		p.conns--
		if p.conns == 0 {
			delete(r.users, s.User())
			r.fanoutLocked(h, &Event{Kind: KindPresence, Room: r.name, From: p.name}, nil)
		}
	}
	return r.emptyLocked()
}

func (r *room) emptyLocked() bool { return len(r.members) == 0 && r.pending == 0 }

func (r *room) publish(h *Hub, e *Event, from Subscriber) (Published, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if from != nil {
		if _, ok := r.pos[from]; !ok {
			return Published{}, ErrNotMember
		}
	} else if r.dead {
		return Published{}, errRoomFreed
	}
	if e.Kind != KindMessage {
		return Published{Delivered: r.fanoutLocked(h, e, from)}, nil
	}
	now := h.cfg.Now()
	var key string
	if e.ClientMsgID != "" && from != nil {
		key = from.User() + "\x00" + e.ClientMsgID
		if d, ok := r.dedup.find(key, now, h.cfg.DedupWindow); ok {
			return Published{Seq: d.seq, Time: d.time, Duplicate: true}, nil
		}
	}
	r.seq++
	e.Seq, e.Time = r.seq, now
	if key != "" {
		r.dedup.add(key, e.Seq, now, h.cfg.DedupEntries)
	}
	if h.cfg.Journals == nil {
		r.fanned = e.Seq
		return Published{Seq: e.Seq, Time: e.Time, Delivered: r.fanoutLocked(h, e, from)}, nil
	}
	// Submitting under the room lock makes the journal's order the room's
	// sequence order, which is the order the members will see. That holds
	// because a room's messages all go to the same journal of the set.
	ev := *e
	err := h.cfg.Journals.For(r.name).Submit(store.Message{
		Room: r.name, Seq: ev.Seq, From: ev.From, Text: string(ev.Text), ClientMsgID: ev.ClientMsgID, Time: ev.Time,
	}, func(err error) { h.stored(r, &ev, from, err) })
	if err != nil {
		return Published{}, fmt.Errorf("store message: %w", err)
	}
	r.pending++
	return Published{Seq: e.Seq, Time: e.Time, Pending: true}, nil
}

// fanoutLocked offers e to every member but skip, encoding it once per
// format. It returns the number of members offered a frame.
func (r *room) fanoutLocked(h *Hub, e *Event, skip Subscriber) int {
	var frames [MaxFormats][]byte
	var encoded [MaxFormats]bool
	droppable := e.Kind == KindTyping
	n := 0
	for _, s := range r.members {
		if s == skip {
			continue
		}
		f := s.Format()
		if !encoded[f] {
			frames[f], encoded[f] = h.cfg.Encode(f, e), true
		}
		if frames[f] == nil {
			continue
		}
		s.Deliver(frames[f], droppable)
		n++
	}
	return n
}

func (r *room) names() []string {
	r.mu.Lock()
	out := make([]string, 0, len(r.users))
	for _, p := range r.users {
		out = append(out, p.name)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

func (r *room) info() RoomInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RoomInfo{Name: r.name, Users: len(r.users), Conns: len(r.members)}
}

// dedup remembers recent client message ids, oldest first, so that expiry
// is a trim from the front.
type dedup struct {
	ids   map[string]dedupEntry
	order []dedupKey
}

type dedupEntry struct {
	seq  uint64
	time time.Time
}

type dedupKey struct {
	key  string
	time time.Time
}

func (d *dedup) find(key string, now time.Time, window time.Duration) (dedupEntry, bool) {
	i := 0
	for i < len(d.order) && now.Sub(d.order[i].time) >= window {
		i++
	}
	d.drop(i)
	e, ok := d.ids[key]
	return e, ok
}

func (d *dedup) add(key string, seq uint64, now time.Time, max int) {
	if d.ids == nil {
		d.ids = make(map[string]dedupEntry)
	}
	d.ids[key] = dedupEntry{seq: seq, time: now}
	d.order = append(d.order, dedupKey{key: key, time: now})
	if len(d.order) > max {
		d.drop(len(d.order) - max)
	}
}

// drop forgets the n oldest ids. An id recorded again later keeps its
// newer entry.
func (d *dedup) drop(n int) {
	for _, k := range d.order[:n] {
		if e, ok := d.ids[k.key]; ok && e.time.Equal(k.time) {
			delete(d.ids, k.key)
		}
	}
	d.order = slices.Delete(d.order, 0, n)
}
