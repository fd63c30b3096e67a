package journal_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/postgres"
)

// queued builds the entries of a queue from words like "r:a": a reaction
// (r), unreaction (u), edit (e) or delete (d) of message 1, or a new
// message (m), from user a. The text is the word, so that what was
// stored can be told apart.
func queued(t *testing.T, spec string) []store.Message {
	t.Helper()
	changes := map[string]store.Change{"m": store.ChangeNone, "r": store.ChangeReact, "u": store.ChangeUnreact,
		"e": store.ChangeEdit, "d": store.ChangeDelete}
	var msgs []store.Message
	for w := range strings.FieldsSeq(spec) {
		kind, from, ok := strings.Cut(w, ":")
		change, known := changes[kind]
		if !ok || !known {
			t.Fatalf("bad word %q", w)
		}
		m := store.Message{Room: "r", From: from, Text: w, Time: time.Now(), Change: change}
		if change != store.ChangeNone {
			m.Target = 1
		}
		if change == store.ChangeReact || change == store.ChangeUnreact {
			m.Text = "👍"
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// committed records what a journal stored, batch by batch, while the
// test holds chosen appends.
type committed struct {
	mu      sync.Mutex
	batches []int        // the size of each append after the first
	order   []string     // words in the order they were numbered
	told    []string     // words in the order their callbacks ran
	seqs    []uint64     // numbers in the order the callbacks ran
	hold    map[int]bool // appends (1 is the first) that wait for release
	held    chan int
	release chan struct{}
}

func newCommitted(hold ...int) *committed {
	c := &committed{hold: map[int]bool{}, held: make(chan int), release: make(chan struct{})}
	for _, n := range hold {
		c.hold[n] = true
	}
	return c
}

func (c *committed) onCommit(t *testing.T) func(int, time.Duration, error) {
	return func(n int, _ time.Duration, err error) {
		if err != nil {
			t.Errorf("append: %v", err)
		}
		c.mu.Lock()
		c.batches = append(c.batches, n)
		k := len(c.batches)
		c.mu.Unlock()
		if c.hold[k] {
			c.held <- k
			<-c.release
		}
	}
}

// waitHeld waits until append k has committed and is held.
func (c *committed) waitHeld(t *testing.T, k int) {
	t.Helper()
	select {
	case got := <-c.held:
		if got != k {
			t.Fatalf("append %d held, want %d", got, k)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("append %d never came", k)
	}
}

// batchesOf splits the numbered words by the sizes of the appends after
// the first (the target's), as "w w | w".
func (c *committed) batchesOf() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	at := c.batches[0]
	for _, n := range c.batches[1:] {
		end := min(at+n, len(c.order))
		parts = append(parts, strings.Join(c.order[at:end], " "))
		at = end
	}
	return strings.Join(parts, " | ")
}

// submitNumbered submits m as the hub does: numbered by a counter when
// the committer stores it, its callback recording the order.
func (c *committed) submit(t *testing.T, j *journal.Journal, seq *uint64, m store.Message) {
	t.Helper()
	word := m.Text
	if m.Change == store.ChangeReact || m.Change == store.ChangeUnreact {
		word = string(m.Change[0]) + ":" + m.From
	}
	var mine uint64
	err := j.SubmitStored(m, func(context.Context) uint64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		*seq++
		mine = *seq
		c.order = append(c.order, word)
		return mine
	}, func(_ store.Message, err error) {
		if err != nil {
			t.Errorf("%s: %v", word, err)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.told = append(c.told, word)
		c.seqs = append(c.seqs, mine)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runQueue stores the target, message 1, holds its append, queues spec
// behind it and returns the batches that stored spec.
func runQueue(t *testing.T, maxBatch int, spec string) *committed {
	st := openSQLite(t)
	c := newCommitted(1)
	j := journal.New(journal.Config{Store: st, MaxBatch: maxBatch, OnCommit: c.onCommit(t)})
	var seq uint64
	c.submit(t, j, &seq, store.Message{Room: "r", From: "root", Text: "root", Time: time.Now()})
	c.waitHeld(t, 1)
	for _, m := range queued(t, spec) {
		c.submit(t, j, &seq, m)
	}
	close(c.release)
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkStoredInOrder(t, st, c)
	return c
}

// checkStoredInOrder checks that the callbacks ran in the numbered order
// and that the store holds the room's numbers 1 to n, in that order.
func checkStoredInOrder(t *testing.T, st store.Store, c *committed) {
	t.Helper()
	if !slices.Equal(c.told, c.order) {
		t.Fatalf("callbacks ran in the order %v, numbered %v", c.told, c.order)
	}
	for i, s := range c.seqs {
		if s != uint64(i+1) {
			t.Fatalf("callback %d was told seq %d", i, s)
		}
	}
	msgs, err := st.After(context.Background(), "r", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(c.order) {
		t.Fatalf("%d stored, %d numbered", len(msgs), len(c.order))
	}
	for i, m := range msgs {
		if m.Seq != uint64(i+1) {
			t.Fatalf("stored seqs %d at %d", m.Seq, i)
		}
	}
}

// A batch moves the new messages it takes ahead of other senders' queued
// changes and stores them without the changes, which go in the next
// append; a sender's own requests keep their order.
func TestNewMessagesGoAheadOfOtherSendersChanges(t *testing.T) {
	for _, tc := range []struct {
		name, queue string
		maxBatch    int
		want        string
	}{
		{"a message behind reactions of others", "r:a r:b r:c m:d", 0, "m:d | r:a r:b r:c"},
		{"reactions behind messages", "m:a m:b r:c r:d", 0, "m:a m:b | r:c r:d"},
		{"among reactions", "r:a m:b r:c m:d r:e", 0, "m:b m:d | r:a r:c r:e"},
		{"a sender's message stays behind its reaction", "r:a m:a r:b m:c", 0, "m:c | r:a m:a r:b"},
		{"a sender's message before its reaction", "m:a r:a", 0, "m:a | r:a"},
		{"only messages", "m:a m:b m:a", 0, "m:a m:b m:a"},
		{"only reactions", "r:a u:a r:b", 0, "r:a u:a r:b"},
		{"nothing may go ahead", "r:a m:a u:b m:b", 0, "r:a m:a u:b m:b"},
		{"edits and deletes are changes", "e:a m:b d:c m:c m:d", 0, "m:b m:d | e:a d:c m:c"},
		{"within the batch bound", "r:a r:b m:c m:d", 3, "m:c | r:a r:b | m:d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runQueue(t, tc.maxBatch, tc.queue).batchesOf(); got != tc.want {
				t.Fatalf("queued %q, stored as %q, want %q", tc.queue, got, tc.want)
			}
		})
	}
}

// The changes a batch of messages went ahead of are the next append,
// whatever was queued meanwhile: a change is passed only once.
func TestChangesPassedByMessagesAreTheNextAppend(t *testing.T) {
	st := openSQLite(t)
	c := newCommitted(1, 2)
	j := journal.New(journal.Config{Store: st, OnCommit: c.onCommit(t)})
	var seq uint64
	c.submit(t, j, &seq, store.Message{Room: "r", From: "root", Text: "root", Time: time.Now()})
	c.waitHeld(t, 1)
	for _, m := range queued(t, "r:a r:b m:c") {
		c.submit(t, j, &seq, m)
	}
	c.release <- struct{}{}
	c.waitHeld(t, 2)
	for _, m := range queued(t, "m:d r:e m:f") {
		c.submit(t, j, &seq, m)
	}
	close(c.release)
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkStoredInOrder(t, st, c)
	if got, want := c.batchesOf(), "m:c | r:a r:b | m:d m:f | r:e"; got != want {
		t.Fatalf("stored as %q, want %q", got, want)
	}
}

// A journal whose store numbers the messages (a cluster) keeps the
// submission order.
func TestASequencerJournalKeepsSubmissionOrder(t *testing.T) {
	dsn, _ := servertest.PostgresSchema(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := newCommitted(1)
	j := journal.New(journal.Config{Store: st, Sequencer: st, OnCommit: c.onCommit(t)})
	var mu sync.Mutex
	var stored []string
	submit := func(m store.Message) {
		word := fmt.Sprintf("%s:%s", m.Change, m.From)
		if err := j.SubmitNumbered(m, func(s store.Message, _ bool, err error) {
			if err != nil {
				t.Errorf("%s: %v", word, err)
			}
			mu.Lock()
			defer mu.Unlock()
			stored = append(stored, fmt.Sprintf("%d %s", s.Seq, word))
		}); err != nil {
			t.Fatal(err)
		}
	}
	submit(store.Message{Room: "r", From: "root", Text: "root", Time: time.Now()})
	c.waitHeld(t, 1)
	for _, m := range queued(t, "r:a m:b") {
		submit(m)
	}
	close(c.release)
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(stored, ", "), "1 :root, 2 react:a, 3 :b"; got != want {
		t.Fatalf("stored %s, want %s", got, want)
	}
	if !slices.Equal(c.batches, []int{1, 2}) {
		t.Fatalf("appends of %v, want 1 then 2", c.batches)
	}
}
