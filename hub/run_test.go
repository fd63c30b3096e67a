package hub

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chatd/chatd/store"
)

// encodeRuns renders messages, single reactions and reaction states.
func encodeRuns(_ Format, e *Event) []byte {
	switch {
	case e.Kind == KindReactions:
		var counts []string
		for _, r := range e.State.Reactions {
			counts = append(counts, fmt.Sprintf("%s=%d", r.Emoji, r.Count))
		}
		return fmt.Appendf(nil, "reactions %d-%d %s", e.First, e.Seq, strings.Join(counts, ","))
	case e.Kind == KindMessage && (e.Change == store.ChangeReact || e.Change == store.ChangeUnreact):
		return fmt.Appendf(nil, "react %d %s", e.Seq, e.Text)
	case e.Kind == KindMessage:
		return fmt.Appendf(nil, "msg %d %s", e.Seq, e.Text)
	}
	return nil
}

func newRunHub(t *testing.T, st *fakeStore) *Hub {
	t.Helper()
	return newDurable(t, st, Config{Encode: encodeRuns})
}

func react(t *testing.T, h *Hub, from Subscriber, room string, target uint64, emoji string) <-chan outcome {
	t.Helper()
	done := make(chan outcome, 1)
	e := &Event{Kind: KindMessage, Room: room, From: from.Name(), Text: []byte(emoji),
		Change: store.ChangeReact, Target: target,
		Done: func(p Published, err error) { done <- outcome{p, err} }}
	if _, err := h.Publish(t.Context(), e, from); err != nil {
		t.Fatal(err)
	}
	return done
}

// A storm stored over several batches (a commit held while more reactions
// queue behind it) reaches a member as one state, covering every reaction's
// sequence number, and every reactor is told its own number.
func TestAStormOverSeveralBatchesGoesOutAsOneState(t *testing.T) {
	st := newFakeStore()
	h := newRunHub(t, st)
	reader := &recorder{user: "reader"}
	join(t, h, "r", reader, Replay{})
	crowd := make([]*recorder, 5)
	for i := range crowd {
		crowd[i] = &recorder{user: fmt.Sprint("u", i)}
		join(t, h, "r", crowd[i], Replay{})
	}
	sendStored(t, h, crowd[0], "r", "react to me")

	waiting, release := st.holdCommits()
	t.Cleanup(release)
	var dones []<-chan outcome
	dones = append(dones, react(t, h, crowd[0], "r", 1, "👍"))
	wait(t, waiting) // the first reaction's batch is being stored
	for _, c := range crowd[1:] {
		dones = append(dones, react(t, h, c, "r", 1, "👍"))
	}
	release()
	var seqs []uint64
	for _, d := range dones {
		o := wait(t, d)
		if o.err != nil {
			t.Fatal(o.err)
		}
		seqs = append(seqs, o.p.Seq)
	}
	if !slices.Equal(seqs, seqRange(2, 6)) {
		t.Fatalf("the reactors were told %v, want 2 to 6", seqs)
	}
	want := []string{"msg 1 react to me", "reactions 2-6 👍=5"}
	if got := reader.frames(); !slices.Equal(got, want) {
		t.Fatalf("the reader got %q, want %q", got, want)
	}
}

// holdARunThenSend has a store message 1 from a in room r, then, while
// the store holds the commit of a's reaction to it, a's second reaction in
// a second batch (a run on its own) and a's message "after", which stays
// behind its sender's reaction; it returns the outcomes of a's first
// reaction and of that message.
func holdARunThenSend(t *testing.T, st *fakeStore, h *Hub, a Subscriber) (reacted, sent <-chan outcome) {
	t.Helper()
	sendStored(t, h, a, "r", "react to me")
	waiting, release := st.holdCommits()
	t.Cleanup(release)
	reacted = react(t, h, a, "r", 1, "👍")
	wait(t, waiting)
	react(t, h, a, "r", 1, "🎉")
	_, sent = send(t, h, a, "r", "after", "")
	release()
	return reacted, sent
}

// A run held for the next batch goes out before anything else of the room,
// so a message never waits behind it and the order is kept.
func TestAHeldRunGoesOutBeforeTheNextMessage(t *testing.T) {
	st := newFakeStore()
	h := newRunHub(t, st)
	reader, a := &recorder{user: "reader"}, &recorder{user: "a"}
	join(t, h, "r", reader, Replay{})
	join(t, h, "r", a, Replay{})
	reacted, sent := holdARunThenSend(t, st, h, a)
	if o := wait(t, sent); o.err != nil || o.p.Seq != 4 {
		t.Fatalf("the message: %+v, %v; want seq 4", o.p, o.err)
	}
	if o := wait(t, reacted); o.err != nil || o.p.Seq != 2 {
		t.Fatalf("the first reaction: %+v, %v; want seq 2", o.p, o.err)
	}
	want := []string{"msg 1 react to me", "reactions 2-3 👍=1,🎉=1", "msg 4 after"}
	if got := reader.frames(); !slices.Equal(got, want) {
		t.Fatalf("the reader got %q, want %q", got, want)
	}
}

// pairRecorder is a recorder that takes two frames arriving together in
// one call, and records them as one entry joined by " + ".
type pairRecorder struct{ recorder }

func (p *pairRecorder) DeliverPair(first, second []byte) {
	p.Deliver(fmt.Appendf(nil, "%s + %s", first, second), false)
}

// A message that ends a held run reaches a member that takes pairs in one
// call with the run's state, and its sender, which does not get its own
// message, the state alone; a member that does not take pairs gets the two
// one after the other.
func TestAMessageEndingAHeldRunGoesOutWithItsStateAsAPair(t *testing.T) {
	st := newFakeStore()
	h := newRunHub(t, st)
	reader, a, plain := &pairRecorder{recorder{user: "reader"}}, &pairRecorder{recorder{user: "a"}}, &recorder{user: "plain"}
	for _, s := range []Subscriber{reader, a, plain} {
		join(t, h, "r", s, Replay{})
	}
	reacted, sent := holdARunThenSend(t, st, h, a)
	if o := wait(t, sent); o.err != nil || o.p.Seq != 4 || o.p.Delivered != 2 {
		t.Fatalf("the message: %+v, %v; want seq 4 offered to 2", o.p, o.err)
	}
	if o := wait(t, reacted); o.err != nil || o.p.Seq != 2 || o.p.Delivered != 3 {
		t.Fatalf("the first reaction: %+v, %v; want seq 2 offered to 3", o.p, o.err)
	}
	for _, tc := range []struct {
		r    *recorder
		want []string
	}{
		{&reader.recorder, []string{"msg 1 react to me", "reactions 2-3 👍=1,🎉=1 + msg 4 after"}},
		{&a.recorder, []string{"reactions 2-3 👍=1,🎉=1"}},
		{plain, []string{"msg 1 react to me", "reactions 2-3 👍=1,🎉=1", "msg 4 after"}},
	} {
		if got := tc.r.frames(); !slices.Equal(got, tc.want) {
			t.Errorf("%s got %q, want %q", tc.r.user, got, tc.want)
		}
	}
}

// A message queued behind other members' reactions, while a run is held,
// is stored before them: it ends the held run, and the reactions queued
// before it make a run of their own after it, so that every member still
// gets each number once, in order, and every reactor is told its own.
func TestAMessageQueuedBehindOthersReactionsGoesAheadOfThem(t *testing.T) {
	st := newFakeStore()
	h := newRunHub(t, st)
	reader, a, b, c, d := &recorder{user: "reader"}, &recorder{user: "a"}, &recorder{user: "b"}, &recorder{user: "c"}, &recorder{user: "d"}
	for _, s := range []Subscriber{reader, a, b, c, d} {
		join(t, h, "r", s, Replay{})
	}
	sendStored(t, h, a, "r", "react to me")
	waiting, release := st.holdCommits()
	t.Cleanup(release)
	reacted := []<-chan outcome{react(t, h, a, "r", 1, "👍")}
	wait(t, waiting)
	reacted = append(reacted, react(t, h, b, "r", 1, "👍"), react(t, h, c, "r", 1, "🎉"))
	_, sent := send(t, h, d, "r", "after", "")
	release()
	if o := wait(t, sent); o.err != nil || o.p.Seq != 3 {
		t.Fatalf("the message: %+v, %v; want seq 3", o.p, o.err)
	}
	var seqs []uint64
	for _, r := range reacted {
		o := wait(t, r)
		if o.err != nil {
			t.Fatal(o.err)
		}
		seqs = append(seqs, o.p.Seq)
	}
	if want := []uint64{2, 4, 5}; !slices.Equal(seqs, want) {
		t.Fatalf("the reactors were told %v, want %v", seqs, want)
	}
	want := []string{"msg 1 react to me", "react 2 👍", "msg 3 after", "reactions 4-5 👍=2,🎉=1"}
	if got := reader.frames(); !slices.Equal(got, want) {
		t.Fatalf("the reader got %q, want %q", got, want)
	}
}
