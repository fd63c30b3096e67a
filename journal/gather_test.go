package journal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
)

// gatheringJournal starts a journal whose changes wait an hour for more,
// so that only a message, maxGathered or Close can send them, and stores
// its first message, the changes' target.
func gatheringJournal(t *testing.T) (*journal.Journal, *committed, store.Store, *uint64) {
	t.Helper()
	st := openSQLite(t)
	c := newCommitted()
	j := journal.New(journal.Config{Store: st, OnCommit: c.onCommit(t), Gather: time.Hour})
	var seq uint64
	c.submit(t, j, &seq, store.Message{Room: "r", From: "root", Text: "root", Time: time.Now()})
	c.waitTold(t, 1)
	return j, c, st, &seq
}

// waitTold waits until n callbacks have run.
func (c *committed) waitTold(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		told := len(c.told)
		c.mu.Unlock()
		if told >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks ran, want %d", told, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Changes submitted one at a time to an idle committer wait for more and
// go out in one append; a new message does not wait, and goes first.
func TestChangesAloneWaitForMoreAndGoTogether(t *testing.T) {
	j, c, st, seq := gatheringJournal(t)
	for _, m := range queued(t, "r:a u:b r:c") {
		c.submit(t, j, seq, m)
		time.Sleep(5 * time.Millisecond) // an idle committer would append each
	}
	for _, m := range queued(t, "m:d") {
		c.submit(t, j, seq, m)
	}
	c.waitTold(t, 5)
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkStoredInOrder(t, st, c)
	if got, want := c.batchesOf(), "m:d | r:a u:b r:c"; got != want {
		t.Fatalf("stored as %q, want %q", got, want)
	}
}

// A gathering ends as soon as it holds MaxGathered changes.
func TestGatheredChangesGoAtTheirBound(t *testing.T) {
	j, c, st, seq := gatheringJournal(t)
	spec := strings.Repeat("r:a ", journal.MaxGathered)
	for _, m := range queued(t, spec) {
		c.submit(t, j, seq, m)
	}
	c.waitTold(t, 1+journal.MaxGathered)
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkStoredInOrder(t, st, c)
	if got, want := c.batchesOf(), strings.TrimSpace(spec); got != want {
		t.Fatalf("stored as %q, want %q", got, want)
	}
}

// Close stores the changes being gathered at once.
func TestCloseStoresTheChangesGathered(t *testing.T) {
	j, c, st, seq := gatheringJournal(t)
	for _, m := range queued(t, "r:a r:b") {
		c.submit(t, j, seq, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkStoredInOrder(t, st, c)
	if got, want := c.batchesOf(), "r:a r:b"; got != want {
		t.Fatalf("stored as %q, want %q", got, want)
	}
}
