package journal_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/postgres"
)

// A goroutine that an early callback wakes runs before the batch's done
// callbacks, even on a single processor: a relay's flusher, woken by the
// notices the early callbacks publish, must not wait behind the fan-out
// that the done callbacks start.
func TestWhatAnEarlyCallbackWakesRunsBeforeTheDoneCallbacks(t *testing.T) {
	dsn, _ := servertest.PostgresSchema(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	j := journal.New(journal.Config{Store: st, Sequencer: st})
	t.Cleanup(func() {
		if err := j.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	var mu sync.Mutex
	var events []string
	record := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	// One processor: whoever the committer wakes runs only when the
	// committer lets it.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	wake := make(chan struct{}, 1)
	flusherDone := make(chan struct{})
	go func() {
		defer close(flusherDone)
		<-wake
		record("flusher")
	}()
	stored := make(chan error, 1)
	m := store.Message{Room: "r", From: "u", ClientMsgID: "a", Text: "hello", Time: time.Now()}
	err = j.SubmitNumberedEarly(m,
		func(store.Message) { wake <- struct{}{} },
		func(_ store.Message, _ bool, err error) {
			record("done")
			stored <- err
		})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-flusherDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the early callback's goroutine did not run")
	}
	select {
	case err := <-stored:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the message was not stored")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0] != "flusher" {
		t.Fatalf("events %q, want the woken goroutine's before the done callback's", events)
	}
}
