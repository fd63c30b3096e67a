package hub

import (
	"context"
	"fmt"
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
	roster  roster
	seq     uint64  // the last sequence number given out
	fanned  uint64  // the last sequence number offered to the members
	pending int     // messages submitted to the journal and not yet stored
	resync  bool    // a batch failed: read the store's LastSeq before numbering again
	known   uint64  // with a Relay: the highest number known to be stored
	filling bool    // with a Relay: a goroutine is filling the gap up to known
	reorder reorder // with a Relay: messages relayed ahead of the cursor
	// remote, with a Relay, is who is present on the other nodes, by node,
	// then user: their names.
	remote map[string]map[string]string
	dead   bool // removed from its shard; a new room object takes its place
	dedup  dedup
	run    []runEntry // stored reactions waiting for the end of their run (run.go)
	// talliedLen, once the end of a batch's run was held for the next
	// batches, is how much of run the held state covers (a later batch's
	// reactions after it wait for their own end): tally is the target's
	// reactions after run[talliedLen-1], runSince when the hold began, and
	// runTimer sends the run at runHold (run.go).
	talliedLen int
	tally      []store.Reaction
	runSince   time.Time
	runTimer   *time.Timer
}

func newRoom(name string) *room {
	return &room{name: name, pos: make(map[Subscriber]int), roster: roster{byUser: make(map[string]*presence)}}
}

func (r *room) addLocked(h *Hub, s Subscriber) int {
	if _, ok := r.pos[s]; ok {
		return r.roster.count()
	}
	r.pos[s] = len(r.members)
	r.members = append(r.members, s)
	p := r.roster.byUser[s.User()]
	if p == nil {
		p = r.roster.addUser(s.User(), s.Name())
		r.presenceChangedLocked(h, s.User(), p.name, true, s)
	}
	if p.conns++; p.conns == 1 && h.cfg.Relay != nil {
		h.cfg.Relay.AnnouncePresence(r.name, map[string]string{s.User(): p.name}, nil)
	}
	return r.roster.count()
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
	if p := r.roster.byUser[s.User()]; p != nil {
		p.conns--
		if p.conns == 0 && h.cfg.Relay != nil {
			h.cfg.Relay.AnnouncePresence(r.name, nil, []string{s.User()})
		}
		if p.conns == 0 && p.nodes == 0 {
			r.roster.removeUser(s.User(), p)
			r.presenceChangedLocked(h, s.User(), p.name, false, nil)
		}
	}
	return r.emptyLocked()
}

func (r *room) emptyLocked() bool { return len(r.members) == 0 && r.pending == 0 && len(r.run) == 0 }

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
		if e.Kind == KindTyping && h.cfg.Relay != nil {
			h.cfg.Relay.AnnounceTyping(r.name, e.From)
		}
		return Published{Delivered: r.fanoutLocked(h, e, from)}, nil
	}
	now := h.cfg.Now()
	key := repeatKey(e)
	if key != "" {
		if d, ok := r.dedup.find(key, now, h.cfg.DedupWindow); ok {
			return d.repeatLocked(e.Done), nil
		}
	}
	e.Time = now
	if h.cfg.Journals == nil {
		r.seq++
		e.Seq = r.seq
		r.fanned = e.Seq
		if key != "" {
			r.dedup.add(key, &dedupEntry{seq: e.Seq, time: now}, h.cfg.DedupEntries)
		}
		return Published{Seq: e.Seq, Time: e.Time, Delivered: r.fanoutLocked(h, e, from)}, nil
	}
	// The message gets its number from the journal, just before its batch
	// is appended (number), so that a batch the store refuses leaves no
	// hole. The journal's order, which is the submission order but that a
	// new message may pass other senders' queued changes, is thus the
	// room's sequence order, which the members will see. That holds because
	// a room's messages all go to the same journal of the set.
	ev := *e
	var d *dedupEntry
	if key != "" {
		d = &dedupEntry{time: now, pending: true}
		r.dedup.add(key, d, h.cfg.DedupEntries)
	}
	m := store.Message{Room: r.name, From: ev.From, Text: string(ev.Text), ClientMsgID: ev.ClientMsgID, Time: ev.Time,
		Change: ev.Change, Target: ev.Target, Mentions: ev.Mentions, Unmentions: ev.Unmentions, ReplyTo: ev.ReplyTo, Thread: ev.Thread, AlsoRoom: ev.AlsoRoom}
	var err error
	if h.cfg.Relay != nil {
		// Several processes append to the room: the store numbers it.
		// The other processes hear of a batch's messages before this
		// one's members get the first of them.
		err = h.cfg.Journals.For(r.name).SubmitNumberedEarly(m, h.cfg.Relay.Announce, func(stored store.Message, repeat bool, err error) {
			h.storedNumbered(r, &ev, from, key, d, stored, repeat, err)
		})
	} else {
		err = h.cfg.Journals.For(r.name).SubmitStored(m, func(ctx context.Context) uint64 { return h.number(ctx, r, &ev) },
			func(stored store.Message, err error) { h.stored(r, &ev, from, key, d, stored, err) })
	}
	if err != nil {
		if d != nil {
			r.dedup.remove(key, d)
		}
		return Published{}, fmt.Errorf("store message: %w", err)
	}
	r.pending++
	return Published{Time: e.Time, Pending: true}, nil
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

// fanoutPairLocked offers a, then b, to every member, b to all but skip,
// each encoded once per format; a member offered both gets them in one
// DeliverPair when it can take it. It returns the number of members
// offered a frame of each.
func (r *room) fanoutPairLocked(h *Hub, a, b *Event, skip Subscriber) (na, nb int) {
	var fa, fb [MaxFormats][]byte
	var encoded [MaxFormats]bool
	for _, s := range r.members {
		f := s.Format()
		if !encoded[f] {
			fa[f], fb[f], encoded[f] = h.cfg.Encode(f, a), h.cfg.Encode(f, b), true
		}
		first, second := fa[f], fb[f]
		if s == skip {
			second = nil
		}
		if first != nil && second != nil {
			if ps, ok := s.(PairSubscriber); ok {
				ps.DeliverPair(first, second)
				na, nb = na+1, nb+1
				continue
			}
		}
		if first != nil {
			s.Deliver(first, false)
			na++
		}
		if second != nil {
			s.Deliver(second, false)
			nb++
		}
	}
	return na, nb
}

func (r *room) info() RoomInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RoomInfo{Name: r.name, Users: r.roster.count(), Conns: len(r.members)}
}
