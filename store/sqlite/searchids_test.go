package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
)

// TestSearchIDs: a message's search id is its millisecond times 2^16 plus
// the count of the ids its millisecond took before it, whatever the order
// of the milliseconds in a batch; once a millisecond's 65,536 ids are
// taken, the next id of all. Search walks the ids newest first, so these
// are what its order rests on.
func TestSearchIDs(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.UnixMilli(1_800_000_000_000)
	t1 := t0.Add(time.Millisecond)
	b0, b1 := t0.UnixMilli()<<16, t1.UnixMilli()<<16
	msg := func(room string, seq uint64, at time.Time) store.Message {
		return store.Message{Room: room, Seq: seq, From: "ann", Text: "hello", Time: at.Add(300 * time.Microsecond)}
	}
	append := func(msgs ...store.Message) {
		t.Helper()
		if err := s.Append(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	want := func(room string, seq uint64, id int64) {
		t.Helper()
		got, err := s.SearchDocID(room, seq)
		if err != nil || got != id {
			t.Errorf("search id of %s/%d = %d, %v; want %d", room, seq, got, err, id)
		}
	}
	// One batch, which goes in in room order: a's messages before b's.
	append(msg("b", 1, t1), msg("a", 1, t0), msg("b", 2, t0), msg("a", 2, t1))
	want("a", 1, b0)
	want("a", 2, b1)
	want("b", 1, b1+1)
	want("b", 2, b0+1)
	append(msg("a", 3, t0))
	want("a", 3, b0+2)
	// A change is not indexed and takes no id.
	append(store.Message{Room: "a", Seq: 4, From: "ann", Text: "hi", Time: t0, Change: store.ChangeEdit, Target: 1})
	append(msg("a", 5, t0))
	want("a", 5, b0+3)
	// t0's last id taken: the next message of t0 takes the next id of all.
	if err := s.ExecWriter(`INSERT INTO search_docs (id, room, seq) VALUES (?, 'c', 1)`, b1+65535); err != nil {
		t.Fatal(err)
	}
	if err := s.ExecWriter(`INSERT INTO search_docs (id, room, seq) VALUES (?, 'c', 2)`, b0+65535); err != nil {
		t.Fatal(err)
	}
	append(msg("a", 6, t0))
	want("a", 6, b1+65536)
	// t1's range is full as well.
	append(msg("a", 7, t1))
	want("a", 7, b1+65537)
}
