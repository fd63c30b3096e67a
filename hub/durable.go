package hub

import (
	"context"
	"fmt"
	"slices"

	"github.com/chatd/chatd/store"
)

// Replay asks JoinReplay for history: recovery (Recover, After) or the
// newest messages (Last), not both. The zero Replay asks for none.
type Replay struct {
	// Recover, with After, recovers a connection: every message with a
	// sequence number above After, then live messages, with no gap and no
	// duplicate. After 0 is a position like any other (before the first
	// message), so Recover says that it was asked for.
	Recover bool
	After   uint64
	// Last replays the newest Last messages.
	Last int
}

// JoinResult describes a join.
type JoinResult struct {
	Users    int  // distinct users present after the join
	Replayed int  // messages delivered from history before live ones
	Missing  bool // retention removed messages the replay asked for
	// More says the replay stopped at a limit: a recovery pages on with the
	// store after the last message replayed; a replay of the newest
	// messages left out older ones.
	More bool
	Last uint64 // the room's last sequence number offered to its members
	// Room is the room's name as the hub holds it, equal to the name
	// joined: a caller that keeps the name for as long as it is a member
	// keeps this one, which every member shares, rather than its own copy
	// (or the request line it was sliced from).
	Room string
}

// JoinReplay adds s to room like Join and, on a durable hub, first delivers
// the history asked for. The seam is exact: the replay ends at the last
// message already offered to the room's members, and s becomes a member in
// the same critical section, so every later message reaches it live. ctx
// bounds the store reads.
func (h *Hub) JoinReplay(ctx context.Context, room string, s Subscriber, want Replay) (JoinResult, error) {
	for attempt := 0; ; attempt++ {
		r, err := h.roomFor(ctx, room)
		if err != nil {
			return JoinResult{}, err
		}
		r.mu.Lock()
		fanned, dead := r.fanned, r.dead
		r.mu.Unlock()
		if dead {
			continue
		}
		var msgs []store.Message
		var res JoinResult
		if h.cfg.Store != nil && (want.Recover || want.Last > 0) {
			if msgs, res, err = h.history(ctx, room, want, fanned); err != nil {
				return JoinResult{}, err
			}
		}
		r.mu.Lock()
		if r.dead || (r.fanned != fanned && attempt < 3) {
			// Messages went out while the history was read; read again
			// rather than lose or repeat them at the seam.
			r.mu.Unlock()
			continue
		}
		if r.fanned != fanned {
			// A busy room: read the rest with the room held still.
			more, err := h.after(ctx, room, lastSeq(msgs, want.After), r.fanned)
			if err != nil {
				r.mu.Unlock()
				return JoinResult{}, err
			}
			msgs = append(msgs, more...)
		}
		frames, cut := h.encodeReplay(s.Format(), msgs, want.Last > 0)
		for _, frame := range frames {
			s.Deliver(frame, false)
		}
		res.More = res.More || cut
		res.Users = r.addLocked(h, s)
		res.Replayed = len(frames)
		res.Last = r.fanned
		res.Room = r.name
		r.mu.Unlock()
		return res, nil
	}
}

// encodeReplay encodes msgs for a subscriber of format f, within
// ReplayBytes. A replay of the newest messages (newest) keeps the newest
// that fit, so that it still meets live messages without a gap and the
// client scrolls back for the rest; a recovery keeps the oldest, and the
// client pages forward. cut reports that messages were left out.
func (h *Hub) encodeReplay(f Format, msgs []store.Message, newest bool) (frames [][]byte, cut bool) {
	frames = make([][]byte, 0, len(msgs))
	size := 0
	for i := range msgs {
		m := &msgs[i]
		if newest {
			m = &msgs[len(msgs)-1-i]
		}
		frame := h.cfg.Encode(f, storedEvent(m))
		if frame == nil {
			continue
		}
		if size += len(frame); h.cfg.ReplayBytes > 0 && size > h.cfg.ReplayBytes && len(frames) > 0 {
			cut = true
			break
		}
		frames = append(frames, frame)
	}
	if newest {
		slices.Reverse(frames)
	}
	return frames, cut
}

// roomFor returns the live room object, creating it with its sequence
// continued from the store.
func (h *Hub) roomFor(ctx context.Context, name string) (*room, error) {
	if r := h.lookup(name); r != nil {
		return r, nil
	}
	var last uint64
	if h.cfg.Store != nil {
		var err error
		if last, err = h.cfg.Store.LastSeq(ctx, name); err != nil {
			return nil, fmt.Errorf("room %q: %w", name, err)
		}
	}
	sh := h.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.rooms[name]
	if r == nil {
		// No message of this room can be waiting in the journal: rooms with
		// pending messages are never freed. So the store's LastSeq is current.
		r = newRoom(name)
		r.seq, r.fanned = last, last
		sh.rooms[name] = r
		if h.cfg.Relay != nil {
			// Messages stored between LastSeq and the relay's subscription
			// taking effect show up as a gap, or at the next CatchUp.
			h.cfg.Relay.Follow(name)
		}
	}
	return r, nil
}

// history reads what a join asked for, up to the last fanned-out message.
func (h *Hub) history(ctx context.Context, room string, want Replay, fanned uint64) ([]store.Message, JoinResult, error) {
	var res JoinResult
	if want.Last > 0 {
		msgs, err := h.cfg.Store.Before(ctx, room, fanned+1, min(want.Last, h.cfg.ReplayLimit))
		if err != nil {
			return nil, res, fmt.Errorf("history of %q: %w", room, err)
		}
		return msgs, res, nil
	}
	if want.After >= fanned {
		return nil, res, nil
	}
	oldest, err := h.cfg.Store.Oldest(ctx, room)
	if err != nil {
		return nil, res, fmt.Errorf("history of %q: %w", room, err)
	}
	res.Missing = oldest == 0 || oldest > want.After+1
	msgs, err := h.after(ctx, room, want.After, fanned)
	if err != nil {
		return nil, res, err
	}
	if len(msgs) == h.cfg.ReplayLimit && lastSeq(msgs, want.After) < fanned {
		res.More = true
	}
	return msgs, res, nil
}

// after reads messages with after < seq <= upTo, at most ReplayLimit.
func (h *Hub) after(ctx context.Context, room string, after, upTo uint64) ([]store.Message, error) {
	if upTo <= after {
		return nil, nil
	}
	msgs, err := h.cfg.Store.After(ctx, room, after, int(min(upTo-after, uint64(h.cfg.ReplayLimit))))
	if err != nil {
		return nil, fmt.Errorf("history of %q: %w", room, err)
	}
	// Stored but not yet fanned out: those reach the member live.
	for len(msgs) > 0 && msgs[len(msgs)-1].Seq > upTo {
		msgs = msgs[:len(msgs)-1]
	}
	return msgs, nil
}

func lastSeq(msgs []store.Message, otherwise uint64) uint64 {
	if len(msgs) == 0 {
		return otherwise
	}
	return msgs[len(msgs)-1].Seq
}

// number gives e the room's next sequence number. The journal calls it on
// its goroutine just before e's batch is appended, so numbers go out in
// the journal's order (the room's submission order, but that a new message
// may go ahead of other senders' queued changes), and only to messages
// about to be stored.
// After a failed batch it first reads the store's LastSeq: the batch may
// have been committed even though the store reported an error (a lost
// connection during COMMIT), and reusing its numbers would then conflict.
func (h *Hub) number(ctx context.Context, r *room, e *Event) uint64 {
	r.mu.Lock()
	resync := r.resync
	r.mu.Unlock()
	var last uint64
	if resync {
		var err error
		last, err = h.cfg.Store.LastSeq(ctx, r.name)
		resync = err == nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if resync && r.resync {
		r.resync = false
		if last > r.seq {
			// Stored although reported as failed: the members never got
			// those messages live, but a recovery or a history request
			// reads them like any other.
			r.seq, r.fanned = last, last
		}
	}
	r.seq++
	e.Seq = r.seq
	return e.Seq
}

// stored runs on the goroutine of the room's journal once a message's batch
// is durable (or failed): the members get it, then its publisher is told,
// then the repeats that waited for it. Rooms of other journals may be in
// stored at the same time.
//
// A failed batch gives its numbers back: they were the last ones given out
// in the room (numbering happens batch by batch on this goroutine), nobody
// was told them, and the room's next message takes the first of them, so
// the stored sequence has no hole. d, the message's entry in the dedup
// window, is forgotten, so that a resend is stored as new.
func (h *Hub) stored(r *room, e *Event, from Subscriber, key string, d *dedupEntry, m store.Message, err error) {
	r.mu.Lock()
	r.pending--
	var out []told
	if err == nil && r.talliedLen > 1 && len(r.run) == r.talliedLen && !isReaction(e) {
		out = h.flushRunBeforeLocked(r, runEntry{e: e, from: from, key: key, d: d}, out)
		h.releaseLocked(r, out)
		return
	}
	if err == nil && r.talliedLen > 0 && !r.continuesRunLocked(e) {
		out = h.flushRunLocked(r, nil, store.Message{}, out)
	}
	if err == nil && (r.holdRunLocked(e, from, key, d, m) || h.extendRunLocked(r, e, from, key, d, m)) {
		h.releaseLocked(r, out)
		return // the rest is told at the end of its run
	}
	var failed []func(Published, error)
	if err == nil {
		out = h.flushRunLocked(r, &runEntry{e: e, from: from, key: key, d: d}, m, out)
	} else {
		out = h.flushRunLocked(r, nil, m, out)
		r.seq = r.fanned
		r.resync = true
		failed = r.settleLocked(key, d, e.Seq, err)
	}
	h.releaseLocked(r, out)
	if err != nil {
		h.tell(e, Published{}, failed, err)
	}
}

// releaseLocked unlocks r, frees it if it is empty, and tells the outcomes
// in out.
func (h *Hub) releaseLocked(r *room, out []told) {
	empty := r.emptyLocked()
	r.mu.Unlock()
	if empty {
		h.free(r)
	}
	for _, o := range out {
		h.tell(o.e, o.p, o.waiting, nil)
	}
}

// settleLocked records the outcome of a message in the dedup window (d,
// its entry, may be nil) and returns the repeats that waited for it.
func (r *room) settleLocked(key string, d *dedupEntry, seq uint64, err error) []func(Published, error) {
	if d == nil {
		return nil
	}
	waiting := d.waiting
	d.waiting = nil
	if err == nil {
		d.seq, d.pending = seq, false
	} else {
		r.dedup.remove(key, d)
	}
	return waiting
}

// tell reports a message's outcome to its publisher, then to the repeats
// that waited for it. It must not be called with a lock held.
func (h *Hub) tell(e *Event, p Published, waiting []func(Published, error), err error) {
	if e.Done != nil {
		e.Done(p, err)
	}
	for _, done := range waiting {
		if err != nil {
			done(Published{}, err)
		} else {
			done(Published{Seq: e.Seq, Time: e.Time, Duplicate: true}, nil)
		}
	}
}

// PublishReadsStore reports whether Publish of e reads the store, which
// it does only to look for a stored message that e repeats: a message with
// a ClientMsgID on a hub with a Store. Only then does Publish's context
// bound anything, so a caller whose contexts cost (a timer each, and an
// entry in their parent) can make one only when this says so.
func (h *Hub) PublishReadsStore(e *Event) bool {
	return h.cfg.Store != nil && e.Kind == KindMessage && e.ClientMsgID != ""
}

// findStored looks for a stored message that e repeats (see dedup.go) in
// the store, which remembers ids beyond the window and across restarts.
// It must not be called with a lock held.
func (h *Hub) findStored(ctx context.Context, e *Event) (Published, bool, error) {
	if !h.PublishReadsStore(e) {
		return Published{}, false, nil
	}
	m, ok, err := h.cfg.Store.FindClientMsg(ctx, e.Room, e.From, e.ClientMsgID)
	if err != nil {
		return Published{}, false, fmt.Errorf("look up client_msg_id: %w", err)
	}
	if !ok {
		return Published{}, false, nil
	}
	return Published{Seq: m.Seq, Time: m.Time, Duplicate: true}, true, nil
}
