package journal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/postgres"
)

// A numbered batch's early callbacks all run, in order, before the first
// of its done callbacks, and a repeat gets none.
func TestEarlyCallbacksOfABatchRunBeforeItsDoneCallbacks(t *testing.T) {
	dsn, _ := servertest.PostgresSchema(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The first append holds the committer while the rest queue up, so
	// that they go as one batch.
	release := make(chan struct{})
	held := make(chan struct{})
	j := journal.New(journal.Config{Store: st, Sequencer: st, OnCommit: func(n int, _ time.Duration, err error) {
		if n == 1 && err == nil {
			select {
			case held <- struct{}{}:
				<-release
			default:
			}
		}
	}})
	var mu sync.Mutex
	var events []string
	record := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	submit := func(id, text string) {
		m := store.Message{Room: "r", From: "u", ClientMsgID: id, Text: text, Time: time.Now()}
		err := j.SubmitNumberedEarly(m,
			func(m store.Message) { record(fmt.Sprintf("early %s %d", m.Text, m.Seq)) },
			func(m store.Message, repeat bool, err error) {
				if err != nil {
					t.Errorf("%s: %v", text, err)
				}
				record(fmt.Sprintf("done %s %d %t", m.Text, m.Seq, repeat))
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	submit("a", "first")
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the first append did not commit")
	}
	submit("b", "second")
	submit("a", "again") // a repeat of the first: no early callback
	submit("c", "third")
	close(release)
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"early first 1", "done first 1 false",
		"early second 2", "early third 3", "done second 2 false", "done first 1 true", "done third 3 false"}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("callbacks:\n%q\nwant\n%q", events, want)
	}
}
