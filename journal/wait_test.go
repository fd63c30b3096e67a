package journal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
)

func TestWaitBelowReturnsOnceTheCommitterTakesTheQueue(t *testing.T) {
	st := newStuckStore(openSQLite(t), "r")
	set := journal.NewSet(1, journal.Config{Store: st, MaxBatch: 10})
	closeSet(t, set)
	t.Cleanup(st.unblock)
	submit := func(seq uint64) {
		t.Helper()
		if err := set.For("r").Submit(store.Message{Room: "r", Seq: seq, From: "u", Text: "t", Time: time.Now()}, nil, func(error) {}); err != nil {
			t.Fatal(err)
		}
	}
	submit(1)
	select {
	case <-st.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first append never started")
	}
	submit(2)
	submit(3)
	if err := set.WaitBelow(context.Background(), "r", 3); err != nil {
		t.Fatalf("WaitBelow 3 with 2 waiting: %v", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := set.WaitBelow(short, "r", 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitBelow 2 while the commit is held = %v, want the context's deadline", err)
	}

	waited := make(chan error, 1)
	go func() { waited <- set.WaitBelow(context.Background(), "r", 2) }()
	st.unblock()
	if err := receive(t, "WaitBelow after the commit is released", waited); err != nil {
		t.Fatal(err)
	}
	if n := set.Backlog("r"); n >= 2 {
		t.Fatalf("WaitBelow returned with %d waiting", n)
	}
}
