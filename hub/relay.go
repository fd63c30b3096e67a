package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/chatd/chatd/store"
)

// Relay carries a room's messages between the hubs of several processes
// that share one store (a cluster). The store numbers the messages, so the
// relay only notifies: it may lose, delay or reorder notifications, and
// every hub still delivers each room's messages exactly once in sequence
// order, filling what it missed from the store (see Relayed and CatchUp).
//
// A hub calls Follow when a room gets its first local member (or a
// message posted to it), and Unfollow when it frees the room, so that a
// process hears only of the rooms it has members in. It calls Follow and
// Unfollow with a hub lock held, so that the two calls for one room are
// made in the order of the room's life: they must not block or call into
// the hub. Announce is called, with no lock held, once a local message is
// stored, in the room's sequence order, before this process's members get
// it; it must not block either.
type Relay interface {
	Announce(m store.Message)
	Follow(room string)
	Unfollow(room string)
	// AnnouncePresence tells the other nodes that users (by user, their
	// names) became present in room here, and that users gone left it
	// here. It is called with the room's lock held, in the order of the
	// changes, and must not block.
	AnnouncePresence(room string, present map[string]string, gone []string)
	// AnnounceTyping tells the other nodes that the user named from is
	// typing in room. It is called with the room's lock held and must not
	// block.
	AnnounceTyping(room, from string)
}

// RelayedTyping delivers another node's typing indicator to room's
// members here; like a local one, a member that is behind may drop it.
func (h *Hub) RelayedTyping(room, from string) {
	r := h.lookup(room)
	if r == nil {
		return
	}
	r.mu.Lock()
	r.fanoutLocked(h, &Event{Kind: KindTyping, Room: room, From: from}, nil)
	r.mu.Unlock()
}

// fillTimeout bounds one store read of a gap fill.
const fillTimeout = 10 * time.Second

// RemotePresence applies what node says of room: users (by user, their
// names) present there, and users gone from there; with full, present is
// everyone present there, and whoever else the hub had from node is gone.
// A user counts once however many nodes it is present on, and its joins
// and leaves reach the members in the room's presence diffs, like local
// ones. A room without local members ignores it.
func (h *Hub) RemotePresence(room, node string, present map[string]string, gone []string, full bool) {
	r := h.lookup(room)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		return
	}
	was := r.remote[node]
	if full {
		for user := range was {
			if _, ok := present[user]; !ok {
				gone = append(gone, user)
			}
		}
	}
	for _, user := range gone {
		if _, ok := was[user]; !ok {
			continue
		}
		delete(was, user)
		if p := r.roster.byUser[user]; p != nil {
			if p.nodes--; p.nodes == 0 && p.conns == 0 {
				r.roster.removeUser(user, p)
				r.presenceChangedLocked(h, user, p.name, false, nil)
			}
		}
	}
	for user, name := range present {
		if _, ok := was[user]; ok {
			continue
		}
		if was == nil {
			if r.remote == nil {
				r.remote = make(map[string]map[string]string)
			}
			was = make(map[string]string)
			r.remote[node] = was
		}
		was[user] = name
		p := r.roster.byUser[user]
		if p == nil {
			p = r.roster.addUser(user, name)
			r.presenceChangedLocked(h, user, name, true, nil)
		}
		p.nodes++
	}
	if len(was) == 0 {
		delete(r.remote, node)
	}
}

// LocalPresence returns the users present in room through this node's
// own connections, by user, with their names, for a node that starts
// following the room.
func (h *Hub) LocalPresence(room string) map[string]string {
	r := h.lookup(room)
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string)
	for user, p := range r.roster.byUser {
		if p.conns > 0 {
			out[user] = p.name
		}
	}
	return out
}

// NodeGone forgets everyone node had present, in every room: the node
// stopped, or has not been heard of for too long.
func (h *Hub) NodeGone(node string) {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		rooms := make([]string, 0, len(sh.rooms))
		for name := range sh.rooms {
			rooms = append(rooms, name)
		}
		sh.mu.RUnlock()
		for _, name := range rooms {
			h.RemotePresence(name, node, nil, nil, true)
		}
	}
}

// Relayed delivers a message another process stored and announced. The
// room's cursor (the last sequence number offered to its members) decides:
// the next number is delivered at once, with the messages held after it,
// one already offered is dropped, and one beyond the next leaves a gap. A
// message beyond the next is held for reorderWait, as the notices of two
// nodes may cross on the way; the gap is filled from the store when that
// passes, or at once when the room holds too many, before anything after it
// is delivered. A room without local members ignores it. Relayed may block
// for a store read; a relay calls it from its own goroutine.
func (h *Hub) Relayed(m store.Message) {
	r := h.lookup(m.Room)
	if r == nil {
		return
	}
	r.mu.Lock()
	switch {
	case m.Seq == r.fanned+1:
		r.fanoutLocked(h, storedEvent(&m), nil)
		r.fanned = m.Seq
		r.releaseHeldLocked(h)
	case m.Seq > r.fanned:
		r.known = max(r.known, m.Seq)
		if r.holdLocked(h, m) {
			r.mu.Unlock()
			return
		}
	}
	// While messages are held, the gap before them waits for the timer.
	need := r.needFillLocked() && len(r.reorder.held) == 0
	r.mu.Unlock()
	if need {
		h.fill(r)
	}
}

// CatchUp asks the store for the last sequence number of every room with
// local members, in one query, and fills from the store what they have not
// been offered: the relay is at-most-once, and a room's last message may
// never be announced here. A relay calls it periodically and whenever it
// reconnects. ctx bounds the query; the fills have their own deadline.
func (h *Hub) CatchUp(ctx context.Context) error {
	sq, ok := h.cfg.Store.(store.Sequencer)
	if h.cfg.Relay == nil || !ok {
		return nil
	}
	var names []string
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for name := range sh.rooms {
			names = append(names, name)
		}
		sh.mu.RUnlock()
	}
	if len(names) == 0 {
		return nil
	}
	// Read before looking at the rooms: a local message stored before this
	// read and still pending is delivered by its own stored call, and one
	// stored after it has a number above last.
	lasts, err := sq.LastSeqs(ctx, names)
	if err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	for name, last := range lasts {
		r := h.lookup(name)
		if r == nil {
			continue
		}
		r.mu.Lock()
		r.known = max(r.known, last)
		need := r.needFillLocked()
		r.mu.Unlock()
		if need {
			h.fill(r)
		}
	}
	return nil
}

// needFillLocked reports whether r knows of stored messages its members
// have not been offered and may read them now. While a local message waits
// for the store, its stored call fills instead: a read now could return
// that message, committed but not yet reported, and deliver it to its own
// sender.
func (r *room) needFillLocked() bool {
	return r.known > r.fanned && r.pending == 0 && !r.filling && !r.dead
}

// fill offers r's members the stored messages from the cursor up to known,
// reading them from the store outside the room's lock and delivering them
// under it, after checking the cursor again. One goroutine fills a room at
// a time; a notification arriving meanwhile raises known, and the filler
// goes on. A failed read leaves the rest to the next CatchUp.
func (h *Hub) fill(r *room) {
	r.mu.Lock()
	if !r.needFillLocked() {
		r.mu.Unlock()
		return
	}
	r.filling = true
	for {
		from, to := r.fanned, r.known
		if to <= from || r.pending > 0 || r.dead {
			break
		}
		r.mu.Unlock()
		msgs, err := h.readGap(r.name, from, to)
		r.mu.Lock()
		if err != nil {
			break
		}
		r.deliverStoredLocked(h, msgs, to)
		if r.fanned == from {
			break // nothing to read up to known: the next CatchUp looks again
		}
	}
	r.filling = false
	r.mu.Unlock()
}

// readGap reads the stored messages after from, up to to, at most
// ReplayLimit of them.
func (h *Hub) readGap(room string, from, to uint64) ([]store.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fillTimeout)
	defer cancel()
	return h.after(ctx, room, from, to)
}

// deliverStoredLocked offers the members msgs (read from the store, in
// sequence order) above the cursor and up to to, moving the cursor. A
// number missing from the store was removed by retention: the cursor
// passes it, as every number up to to was committed.
func (r *room) deliverStoredLocked(h *Hub, msgs []store.Message, to uint64) {
	for i := range msgs {
		m := &msgs[i]
		if m.Seq <= r.fanned {
			continue
		}
		if m.Seq > to {
			break
		}
		r.fanoutLocked(h, storedEvent(m), nil)
		r.fanned = m.Seq
		h.filled.Add(1)
	}
	r.releaseHeldLocked(h)
}

// Filled returns how many messages gap fills have delivered from the
// store since the hub started: in a cluster, messages whose notice from
// another node was lost, or later than reorderWait.
func (h *Hub) Filled() uint64 { return h.filled.Load() }

// storedNumbered is stored for a hub with a Relay, whose store numbered
// e, stored as stored; repeat says the store held it already. A number above the cursor's next means that other processes
// stored messages in between whose notifications have not arrived: they
// are read from the store and delivered first. The relay announced e to
// the other processes already, with the rest of its batch (see publish).
func (h *Hub) storedNumbered(r *room, e *Event, from Subscriber, key string, d *dedupEntry, stored store.Message, repeat bool, err error) {
	var p Published
	seq := stored.Seq
	if err == nil && repeat {
		// Another node stored the same client_msg_id first: answer with
		// the original, which reaches the members as that node's message.
		e.Seq, e.Time = stored.Seq, stored.Time
		p = Published{Seq: stored.Seq, Time: stored.Time, Duplicate: true}
		r.mu.Lock()
		r.known = max(r.known, stored.Seq)
	} else if err == nil {
		e.Seq = seq
		r.mu.Lock()
		cursor := r.fanned
		r.mu.Unlock()
		var gap []store.Message
		var gapErr error
		if seq > cursor+1 {
			gap, gapErr = h.readGap(r.name, cursor, seq-1)
		}
		r.mu.Lock()
		if gapErr == nil {
			r.deliverStoredLocked(h, gap, seq-1)
		}
		p = Published{Seq: seq, Time: e.Time}
		if r.fanned+1 == seq {
			p.Delivered = r.fanoutLocked(h, e, from)
			r.fanned = seq
			r.releaseHeldLocked(h)
		} else if seq > r.fanned {
			// The gap could not be read: e waits in the store with it,
			// for the next fill.
			r.known = max(r.known, seq)
		}
	} else {
		r.mu.Lock()
	}
	r.pending--
	waiting := r.settleLocked(key, d, e.Seq, err)
	need := r.needFillLocked()
	empty := r.emptyLocked()
	r.mu.Unlock()
	if need {
		h.fill(r)
	}
	if empty {
		h.free(r)
	}
	h.tell(e, p, waiting, err)
}
