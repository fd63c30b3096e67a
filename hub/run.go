package hub

import "github.com/chatd/chatd/store"

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
// there are several, or as the reaction itself, alone. Without end (a
// store that did not tally) the held reactions go out one by one, as they
// would have. It appends the outcomes to tell to out.
func (h *Hub) flushRunLocked(r *room, end *runEntry, stored store.Message, out []told) []told {
	if end != nil && len(r.run) > 0 && r.run[0].e.Target == end.e.Target {
		first := r.run[0].e
		state := &Event{Kind: KindReactions, Room: r.name, Target: end.e.Target, Reactions: stored.Reactions,
			Seq: end.e.Seq, First: first.Seq, Time: end.e.Time}
		n := r.fanoutLocked(h, state, nil)
		r.fanned = end.e.Seq
		for _, x := range append(r.run, *end) {
			p := Published{Seq: x.e.Seq, Time: x.e.Time, Delivered: n}
			out = append(out, told{e: x.e, p: p, waiting: r.settleLocked(x.key, x.d, x.e.Seq, nil)})
		}
		clear(r.run)
		r.run = r.run[:0]
		return out
	}
	for _, x := range r.run {
		out = append(out, r.fanoutStoredLocked(h, x))
	}
	clear(r.run)
	r.run = r.run[:0]
	if end != nil {
		out = append(out, r.fanoutStoredLocked(h, *end))
	}
	return out
}

// fanoutStoredLocked fans out one stored message on its own.
func (r *room) fanoutStoredLocked(h *Hub, x runEntry) told {
	p := Published{Seq: x.e.Seq, Time: x.e.Time, Delivered: r.fanoutLocked(h, x.e, x.from)}
	r.fanned = x.e.Seq
	return told{e: x.e, p: p, waiting: r.settleLocked(x.key, x.d, x.e.Seq, nil)}
}
