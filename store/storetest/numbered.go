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
	if err := st.AppendNumbered(ctx(t), batch); err != nil {
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
	if err := st.AppendNumbered(ctx(t), one); err != nil {
		t.Fatal(err)
	}
	if one[0].Seq != 10 {
		t.Fatalf("after Append of 9, AppendNumbered gave %d, want 10", one[0].Seq)
	}
	// Retention keeps the counter: numbering continues above trimmed
	// messages.
	trim(t, st, base, 0, 1)
	again := []store.Message{unnumbered("a", 11)}
	if err := st.AppendNumbered(ctx(t), again); err != nil {
		t.Fatal(err)
	}
	if again[0].Seq != 11 {
		t.Fatalf("after retention, AppendNumbered gave %d, want 11", again[0].Seq)
	}
	if err := st.AppendNumbered(ctx(t), nil); err != nil {
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
				if err := st.AppendNumbered(ctx(t), batch); err != nil {
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
