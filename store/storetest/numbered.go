package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/chatd/chatd/store"
)

// sequencer returns the store under test as a store.Sequencer, skipping
// the test for adapters that leave numbering to their caller.
func (s *suite) sequencer(t *testing.T) store.Sequencer {
	t.Helper()
	sq, ok := s.newStore(t).(store.Sequencer)
	if !ok {
		t.Skip("the adapter does not number messages itself (store.Sequencer)")
	}
	return sq
}

// unnumbered is msg without its Seq, as AppendNumbered takes it.
func unnumbered(room string, i uint64) store.Message {
	m := msg(room, i)
	m.Seq = 0
	return m
}

func (s *suite) testNumbered(t *testing.T) {
	st := s.sequencer(t)
	mustAppend(t, st, msgs("a", 1, 2, 3))
	// Rooms interleaved in one batch: each continues its own sequence, in
	// the batch's order.
	batch := []store.Message{unnumbered("a", 4), unnumbered("b", 1), unnumbered("a", 5), unnumbered("b", 2)}
	if _, err := st.AppendNumbered(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	if got, exp := seqsOf(batch), []uint64{4, 1, 5, 2}; !slices.Equal(got, exp) {
		t.Fatalf("numbers given: %v, want %v", got, exp)
	}
	checkAfter(t, st, "a", 0, 10, msgs("a", 1, 2, 3, 4, 5))
	checkAfter(t, st, "b", 0, 10, msgs("b", 1, 2))
	// A caller-numbered Append after it must continue above the store's
	// numbers.
	if err := st.Append(ctx(t), msgs("a", 5)); err == nil {
		t.Fatal("Append reused a number AppendNumbered gave")
	}
	mustAppend(t, st, msgs("a", 9))
	one := []store.Message{unnumbered("a", 10)}
	if _, err := st.AppendNumbered(ctx(t), one); err != nil {
		t.Fatal(err)
	}
	if one[0].Seq != 10 {
		t.Fatalf("after Append of 9, AppendNumbered gave %d, want 10", one[0].Seq)
	}
	// Retention keeps the counter: numbering continues above trimmed
	// messages.
	trim(t, st, base, 0, 1)
	again := []store.Message{unnumbered("a", 11)}
	if _, err := st.AppendNumbered(ctx(t), again); err != nil {
		t.Fatal(err)
	}
	if again[0].Seq != 11 {
		t.Fatalf("after retention, AppendNumbered gave %d, want 11", again[0].Seq)
	}
	if _, err := st.AppendNumbered(ctx(t), nil); err != nil {
		t.Fatalf("AppendNumbered of nothing: %v", err)
	}
	lasts, err := st.LastSeqs(ctx(t), []string{"a", "b", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if exp := map[string]uint64{"a": 11, "b": 2}; fmt.Sprint(lasts) != fmt.Sprint(exp) {
		t.Fatalf("LastSeqs = %v, want %v", lasts, exp)
	}
}

// testNumberedConcurrent is several processes appending to one room: every
// message gets a distinct number, the room's numbers have no hole, and each
// batch's numbers follow its order.
func (s *suite) testNumberedConcurrent(t *testing.T) {
	st := s.sequencer(t)
	const (
		writers = 6
		batches = 10
		perBat  = 5
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := make([]store.Message, perBat)
				for i := range batch {
					batch[i] = unnumbered("shared", 1)
					batch[i].Text = fmt.Sprintf("w%d b%d i%d", w, b, i)
				}
				if _, err := st.AppendNumbered(ctx(t), batch); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				for i := 1; i < len(batch); i++ {
					if batch[i].Seq != batch[i-1].Seq+1 {
						errs <- fmt.Errorf("writer %d batch %d: numbers %v, want consecutive", w, b, seqsOf(batch))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	const n = writers * batches * perBat
	checkLastSeq(t, st, "shared", n)
	got, err := st.After(ctx(t), "shared", 0, n+1)
	if err != nil {
		t.Fatal(err)
	}
	if exp := seqRange(1, n); !slices.Equal(seqsOf(got), exp) {
		t.Fatalf("stored numbers %v, want 1..%d", seqsOf(got), n)
	}
}

// withID is unnumbered with a client message id and a sender.
func withID(room, from, id, text string) store.Message {
	m := unnumbered(room, 1)
	m.From, m.ClientMsgID, m.Text = from, id, text
	return m
}

func (s *suite) testNumberedRepeats(t *testing.T) {
	st := s.sequencer(t)
	appendNumbered := func(batch ...store.Message) ([]store.Message, []int) {
		t.Helper()
		repeats, err := st.AppendNumbered(ctx(t), batch)
		if err != nil {
			t.Fatal(err)
		}
		return batch, repeats
	}
	appendNumbered(withID("a", "x", "k1", "first"), withID("a", "x", "k2", "second"))
	// A repeat takes no number and comes back as the original.
	got, repeats := appendNumbered(withID("a", "x", "k1", "again"), withID("a", "x", "k3", "third"))
	if !slices.Equal(repeats, []int{0}) || got[0].Seq != 1 || got[0].Text != "first" || got[1].Seq != 3 {
		t.Fatalf("repeat of k1: repeats %v, messages %+v; want [0], seq 1 \"first\", then seq 3", repeats, got)
	}
	// The same id from another sender, or in another room, is another
	// message.
	got, repeats = appendNumbered(withID("a", "y", "k1", "y's"), withID("b", "x", "k1", "b's"))
	if len(repeats) != 0 || got[0].Seq != 4 || got[1].Seq != 1 {
		t.Fatalf("other sender, other room: repeats %v, seqs %v; want none, 4 and 1", repeats, seqsOf(got))
	}
	// A repeat within one batch.
	got, repeats = appendNumbered(withID("c", "x", "z", "one"), withID("c", "x", "z", "two"))
	if !slices.Equal(repeats, []int{1}) || got[0].Seq != 1 || got[1].Seq != 1 || got[1].Text != "one" {
		t.Fatalf("repeat in a batch: repeats %v, messages %+v", repeats, got)
	}
	checkLastSeq(t, st, "a", 4)
	checkLastSeq(t, st, "c", 1)
	// Once retention removed the original, its id is free again, as
	// FindClientMsg no longer finds it.
	trim(t, st, base, 0, 1)
	got, repeats = appendNumbered(withID("a", "x", "k1", "after trim"))
	if len(repeats) != 0 || got[0].Seq != 5 {
		t.Fatalf("id of a trimmed message: repeats %v, seqs %v; want none, 5", repeats, seqsOf(got))
	}
}

// testNumberedRepeatsConcurrent is the same ids sent through two
// processes at once: each is stored once, and both learn its number.
func (s *suite) testNumberedRepeatsConcurrent(t *testing.T) {
	st := s.sequencer(t)
	const ids = 40
	results := make([][]store.Message, 2)
	reps := make([]int, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w := range 2 {
		wg.Go(func() {
			for i := range ids {
				batch := []store.Message{withID("r", "x", fmt.Sprint(i), fmt.Sprintf("writer %d id %d", w, i))}
				repeats, err := st.AppendNumbered(ctx(t), batch)
				if err != nil {
					errs <- err
					return
				}
				reps[w] += len(repeats)
				results[w] = append(results[w], batch[0])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if reps[0]+reps[1] != ids {
		t.Fatalf("%d repeats, want %d (one per id)", reps[0]+reps[1], ids)
	}
	for i := range ids {
		if a, b := results[0][i], results[1][i]; a.Seq != b.Seq || a.Text != b.Text {
			t.Fatalf("id %d: stored as %d %q and as %d %q", i, a.Seq, a.Text, b.Seq, b.Text)
		}
	}
	checkLastSeq(t, st, "r", ids)
}

// testNumberedMixedBatch: one batch of fresh messages of two rooms, a
// repeat among them and a change: the repeat takes no number, the others
// number their rooms in the batch's order around it, and the change
// applies.
func (s *suite) testNumberedMixedBatch(t *testing.T) {
	st := s.sequencer(t)
	first := []store.Message{withID("a", "x", "k0", "first")}
	if _, err := st.AppendNumbered(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	edit := withID("a", "x", "e", "edited")
	edit.Change, edit.Target = store.ChangeEdit, first[0].Seq
	batch := []store.Message{withID("a", "x", "k1", "one"), withID("a", "x", "k0", "again"), withID("b", "x", "k1", "b's"),
		withID("a", "y", "k2", "two"), edit}
	repeats, err := st.AppendNumbered(ctx(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(repeats, []int{1}) || batch[1].Text != "first" {
		t.Fatalf("repeats %v, repeat %+v; want [1], the original", repeats, batch[1])
	}
	if got, exp := seqsOf(batch), []uint64{2, 1, 1, 3, 4}; !slices.Equal(got, exp) {
		t.Fatalf("numbers given: %v, want %v", got, exp)
	}
	got, err := st.After(ctx(t), "a", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Text != "edited" || got[1].Text != "one" || got[2].Text != "two" || got[3].Change != store.ChangeEdit {
		t.Fatalf("room a after the batch: %+v", got)
	}
	checkLastSeq(t, st, "a", 4)
	checkLastSeq(t, st, "b", 1)
}
