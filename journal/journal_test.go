package journal_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openSQLite(tb testing.TB) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "chat.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// producer assigns a room's sequence numbers under the room's lock and
// submits under it, as the hub does, so that submission order is sequence
// order.
type producer struct {
	mu  sync.Mutex
	seq uint64
}

func (p *producer) submit(j *journal.Journal, room string, done journal.Done) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	if err := j.Submit(store.Message{Room: room, Seq: p.seq, From: "u", Text: fmt.Sprint(p.seq), Time: time.Now()}, nil, done); err != nil {
		done(err)
	}
	return p.seq
}

func TestConcurrentSubmitsAreStoredAndReportedInOrder(t *testing.T) {
	st := openSQLite(t)
	var batches, biggest atomic.Int64
	j := journal.New(journal.Config{Store: st, OnCommit: func(n int, _ time.Duration, err error) {
		if err != nil {
			t.Errorf("commit: %v", err)
		}
		batches.Add(1)
		for {
			b := biggest.Load()
			if int64(n) <= b || biggest.CompareAndSwap(b, int64(n)) {
				break
			}
		}
	}})

	const rooms, senders, perSender = 4, 16, 200
	producers := make([]producer, rooms)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			r := s % rooms
			for range perSender {
				producers[r].submit(j, fmt.Sprint("room", r), func(err error) {
					if err != nil {
						t.Errorf("submit: %v", err)
					}
				})
			}
		})
	}
	wg.Wait()
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	total := senders * perSender
	for r := range rooms {
		room := fmt.Sprint("room", r)
		msgs, err := st.After(context.Background(), room, 0, total)
		if err != nil {
			t.Fatal(err)
		}
		want := int(producers[r].seq)
		if len(msgs) != want {
			t.Fatalf("%s: %d stored, want %d", room, len(msgs), want)
		}
		for i, m := range msgs {
			if m.Seq != uint64(i+1) || m.Text != fmt.Sprint(i+1) {
				t.Fatalf("%s: message %d is seq %d %q", room, i, m.Seq, m.Text)
			}
		}
	}
	if biggest.Load() < 2 {
		t.Fatalf("%d appends, largest batch %d: no group commit happened", batches.Load(), biggest.Load())
	}
}

func TestCallbacksRunInSubmissionOrderAfterCommit(t *testing.T) {
	st := openSQLite(t)
	j := journal.New(journal.Config{Store: st, MaxBatch: 7})
	var p producer
	var mu sync.Mutex
	var order []uint64
	for i := range 100 {
		seq := uint64(i + 1) // the producer's next number: only this goroutine submits
		p.submit(j, "r", func(err error) {
			if err != nil {
				t.Errorf("submit: %v", err)
			}
			// Durable before the callback runs.
			last, lerr := st.LastSeq(context.Background(), "r")
			if lerr != nil || last < seq {
				t.Errorf("callback for %d ran with LastSeq %d (%v)", seq, last, lerr)
			}
			mu.Lock()
			order = append(order, seq)
			mu.Unlock()
		})
	}
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, s := range order {
		if s != uint64(i+1) {
			t.Fatalf("callback %d was for seq %d", i, s)
		}
	}
	if len(order) != 100 {
		t.Fatalf("%d callbacks, want 100", len(order))
	}
}

func TestFailedAppendIsReportedToEveryMessageOfTheBatch(t *testing.T) {
	st := openSQLite(t)
	if err := st.Append(context.Background(), []store.Message{{Room: "r", Seq: 5, From: "u", Text: "x", Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	j := journal.New(journal.Config{Store: st})
	errs := make(chan error, 1)
	if err := j.Submit(store.Message{Room: "r", Seq: 5, From: "u", Text: "again", Time: time.Now()}, nil, func(err error) { errs <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; !errors.Is(err, store.ErrSeqConflict) {
		t.Fatalf("reused sequence: %v, want ErrSeqConflict", err)
	}
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	called := false
	err := j.Submit(store.Message{Room: "r", Seq: 6}, nil, func(error) { called = true })
	if !errors.Is(err, journal.ErrClosed) || called {
		t.Fatalf("submit after close: %v (callback called: %v)", err, called)
	}
}

// BenchmarkSubmit100Senders measures stored messages per second with 100
// goroutines submitting into 10 rooms, each with at most window messages
// not yet durable, as a chat sender with that many unacknowledged sends.
// BenchmarkSubmit100Senders has 100 senders keep window messages each
// unacknowledged, in 10 rooms, and in 100 (one room each, as in
// chatbench's rooms scenario).
func BenchmarkSubmit100Senders(b *testing.B) {
	for _, c := range []struct{ window, rooms int }{{1, 10}, {8, 10}, {32, 100}} {
		b.Run(fmt.Sprintf("window=%d/rooms=%d", c.window, c.rooms), func(b *testing.B) { benchSubmit(b, c.window, c.rooms) })
	}
}

func benchSubmit(b *testing.B, window, rooms int) {
	st := openSQLite(b)
	var sizes, commits atomic.Int64
	j := journal.New(journal.Config{Store: st, OnCommit: func(n int, _ time.Duration, err error) {
		if err != nil {
			b.Error(err)
		}
		sizes.Add(int64(n))
		commits.Add(1)
	}})
	const senders = 100
	producers := make([]producer, rooms)
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			acks := make(chan error, window)
			inFlight := 0
			for next.Add(1) <= int64(b.N) {
				if inFlight == window {
					if err := <-acks; err != nil {
						b.Error(err)
						return
					}
					inFlight--
				}
				producers[s%rooms].submit(j, fmt.Sprint("room", s%rooms), func(err error) { acks <- err })
				inFlight++
			}
			for ; inFlight > 0; inFlight-- {
				<-acks
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if c := commits.Load(); c > 0 {
		b.ReportMetric(float64(sizes.Load())/float64(c), "msgs/commit")
	}
	if err := j.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
}
