package hub

import (
	"time"

	"github.com/chatd/chatd/store"
)

// A storm of reactions to one message (a thousand members reacting within
// a second) would cost every member a frame per reaction. The store marks
// the last reaction of each run in a batch (reactions to one target that
// follow each other in the room) with the target's reactions after it
// (store.Message.Tally), so the room holds back the reactions of a run
// and sends, at its end, one KindReactions event with that state and the
// sequence numbers it covers, encoded once for all the members. A run's
// reactions are stored in one batch, whose callbacks run one after the
// other on the journal's goroutine, so the end of a run always follows
// its beginning before anything else of the room is fanned out.
//
// A storm spans many batches, and each batch's run would still cost every
// member a frame: on a fast store a batch holds a few reactions, and a
// thousand reactions in a second came to 250–330 frames a member. So on a
// single node the end of a run is held too, with the state the store
// tallied, for at most runHold (a timer sends it then): the next batches'
// reactions to the same target extend the run, and anything else of the
// room sends the held state first, so it never waits behind a run and the
// room's order is kept. The reactors are told when their run goes out. In
// a cluster the room's cursor must follow the commits, which other nodes'
// messages are placed by, so runs end with their batch as before.

// runHold bounds how long a run is held across batches, which is also how
// long a reactor may wait for its reaction's acknowledgement beyond its
// commit; maxRun bounds its length.
const (
	runHold = 50 * time.Millisecond
	maxRun  = 4096
)

// runEntry is a stored reaction waiting for the end of its run.
type runEntry struct {
	e    *Event
	from Subscriber
	key  string
	d    *dedupEntry
}

func isReaction(e *Event) bool {
	return e.Kind == KindMessage && (e.Change == store.ChangeReact || e.Change == store.ChangeUnreact)
}

// holdRunLocked keeps a stored reaction of a run that goes on. It reports
// false for anything else, which is fanned out as it comes.
func (r *room) holdRunLocked(e *Event, from Subscriber, key string, d *dedupEntry, stored store.Message) bool {
	if !isReaction(e) || stored.Tally {
		return false
	}
	if len(r.run) > 0 && r.run[0].e.Target != e.Target {
		return false
	}
	r.run = append(r.run, runEntry{e: e, from: from, key: key, d: d})
	return true
}

// continuesRunLocked reports whether e, stored, belongs to the run held:
// a reaction to its target.
func (r *room) continuesRunLocked(e *Event) bool {
	return isReaction(e) && len(r.run) > 0 && r.run[0].e.Target == e.Target
}

// extendRunLocked holds e, a reaction that ends its batch's run (stored
// tallied), for the next batches, on a hub that is not part of a cluster,
// within runHold of the run's first hold and maxRun. It reports whether it
// did.
func (h *Hub) extendRunLocked(r *room, e *Event, from Subscriber, key string, d *dedupEntry, stored store.Message) bool {
	if h.cfg.Relay != nil || r.dead || !isReaction(e) || !stored.Tally || len(r.run) >= maxRun {
		return false
	}
	if len(r.run) > 0 && r.run[0].e.Target != e.Target {
		return false
	}
	now := time.Now()
	if r.talliedLen == 0 {
		r.runSince = now
		if r.runTimer == nil {
			r.runTimer = time.AfterFunc(runHold, func() { h.runExpired(r) })
		} else {
			r.runTimer.Reset(runHold)
		}
	} else if now.Sub(r.runSince) >= runHold {
		return false
	}
	r.run = append(r.run, runEntry{e: e, from: from, key: key, d: d})
	r.tally, r.talliedLen = stored.Reactions, len(r.run)
	return true
}

// runExpired runs on the timer's goroutine when a run has been held for
// runHold, and sends it. A batch whose reactions follow the tallied part
// is being told meanwhile: its end, due next, sends the whole run, as the
// hold is over.
func (h *Hub) runExpired(r *room) {
	r.mu.Lock()
	if r.talliedLen == 0 || len(r.run) != r.talliedLen {
		r.mu.Unlock()
		return
	}
	h.releaseLocked(r, h.flushRunLocked(r, nil, store.Message{}, nil))
}

// told is a message's outcome to report once the room's lock is
// released.
type told struct {
	e       *Event
	p       Published
	waiting []func(Published, error)
}

// flushRunLocked fans out the reactions held back and, when end (a stored
// reaction that ends their run, tallied) is set, end with them: as one
// KindReactions event carrying the target's reactions after end, when
// there are several, or as the reaction itself, alone. A run whose end was
// held across batches goes out the same way with the state tallied then,
// before end, which is anything else. Without a tally (a store that did
// not tally) the held reactions go out one by one, as they would have. It
// appends the outcomes to tell to out.
func (h *Hub) flushRunLocked(r *room, end *runEntry, stored store.Message, out []told) []told {
	if end != nil && isReaction(end.e) && stored.Tally && r.continuesRunLocked(end.e) {
		out = h.fanoutRunLocked(r, append(r.run, *end), stored.Reactions, out)
		end = nil
	} else if r.talliedLen > 1 {
		out = h.fanoutRunLocked(r, r.run, r.tally, out)
	} else {
		for _, x := range r.run {
			out = append(out, r.fanoutStoredLocked(h, x))
		}
	}
	r.endRunLocked()
	if end != nil {
		out = append(out, r.fanoutStoredLocked(h, *end))
	}
	return out
}

// fanoutRunLocked fans out run, reactions to one target, as one
// KindReactions event with reactions, the target's state after the last.
func (h *Hub) fanoutRunLocked(r *room, run []runEntry, reactions []store.Reaction, out []told) []told {
	n := r.fanoutLocked(h, runState(r, run, reactions), nil)
	return r.ranLocked(run, n, out)
}

// runState is the KindReactions event of run, with reactions, the
// target's state after its last reaction.
func runState(r *room, run []runEntry, reactions []store.Reaction) *Event {
	first, last := run[0].e, run[len(run)-1].e
	return &Event{Kind: KindReactions, Room: r.name, Target: last.Target, State: &State{Reactions: reactions},
		Seq: last.Seq, First: first.Seq, Time: last.Time}
}

// ranLocked records run as offered to n members and appends the outcomes
// of its reactions to out.
func (r *room) ranLocked(run []runEntry, n int, out []told) []told {
	r.fanned = run[len(run)-1].e.Seq
	for _, x := range run {
		p := Published{Seq: x.e.Seq, Time: x.e.Time, Delivered: n}
		out = append(out, told{e: x.e, p: p, waiting: r.settleLocked(x.key, x.d, x.e.Seq, nil)})
	}
	return out
}

// flushRunBeforeLocked sends the run held across batches (several
// reactions, talliedLen > 1, its state tallied) and then next, a stored
// message that is not a reaction, which ends it. The two go to each member
// as a pair (fanoutPairLocked): at a storm's height nearly every message
// ends a held run, and a state and a message reaching a writer as two
// frames each time would make its load look sustained, so that its hold
// would grow to the ceiling and every frame of the room wait for it.
func (h *Hub) flushRunBeforeLocked(r *room, next runEntry, out []told) []told {
	na, nb := r.fanoutPairLocked(h, runState(r, r.run, r.tally), next.e, next.from)
	out = r.ranLocked(r.run, na, out)
	r.endRunLocked()
	p := Published{Seq: next.e.Seq, Time: next.e.Time, Delivered: nb}
	r.fanned = next.e.Seq
	return append(out, told{e: next.e, p: p, waiting: r.settleLocked(next.key, next.d, next.e.Seq, nil)})
}

// endRunLocked forgets the run that went out.
func (r *room) endRunLocked() {
	clear(r.run)
	r.run = r.run[:0]
	r.tally, r.talliedLen = nil, 0
	if r.runTimer != nil {
		r.runTimer.Stop() // a timer that fired or was stopped stays so
	}
}

// fanoutStoredLocked fans out one stored message on its own.
func (r *room) fanoutStoredLocked(h *Hub, x runEntry) told {
	p := Published{Seq: x.e.Seq, Time: x.e.Time, Delivered: r.fanoutLocked(h, x.e, x.from)}
	r.fanned = x.e.Seq
	return told{e: x.e, p: p, waiting: r.settleLocked(x.key, x.d, x.e.Seq, nil)}
}
