package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/storetest"
)

// TestSearchIndexesMessagesStoredBeforeIt: the migration that adds the
// index indexes the chat messages already stored, also beside one whose
// text is not UTF-8, which it leaves out; and the one that folds accents
// indexes them again without their accents.
func TestSearchIndexesMessagesStoredBeforeIt(t *testing.T) {
	dsn, _ := newSchema(t)
	ctx := context.Background()
	s := open(t, dsn)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err := s.Append(ctx, []store.Message{
		{Room: "a", Seq: 1, From: "u", Text: "older words", Time: at},
		{Room: "b", Seq: 1, From: "u", Text: "older still, café", Time: at},
		{Room: "a", Seq: 2, From: "u", Text: "gone", Time: at.Add(time.Second)},
		{Room: "a", Seq: 3, From: "u", Change: store.ChangeDelete, Target: 2, Time: at.Add(time.Second)},
		{Room: "c", Seq: 1, From: "u", Text: "older \xff bytes", Time: at},
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before search, as an older chatd left it.
	admin := adminConn(t, dsn)
	// The threads and reaction counts migrations after it go too, as they
	// are run again.
	for _, q := range []string{`ALTER TABLE messages DROP COLUMN words`, `DROP INDEX messages_thread`,
		`DROP TRIGGER reactions_counted ON reactions`, `DROP FUNCTION reactions_count()`, `DROP INDEX reactions_by_seq`,
		`DROP INDEX reactions_by_sender`, `DROP TABLE reaction_counts`,
		`ALTER TABLE messages DROP COLUMN reply_to, DROP COLUMN thread, DROP COLUMN also_room, DROP COLUMN replies,
			DROP COLUMN last_reply_seq, DROP COLUMN last_reply`,
		`UPDATE schema_version SET version = 7`} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s = open(t, dsn)
	defer s.Close()
	if err := s.Append(ctx, []store.Message{{Room: "a", Seq: 4, From: "u", Text: "newer words", Time: at.Add(2 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	storetest.CheckSearches(t, s, map[string][]string{"older": {"a/1", "b/1"}, "words": {"a/4", "a/1"}, "gone": nil, "cafe": {"b/1"}})
}

// BenchmarkSearch: see storetest.BenchSearch and scripts/bench-search.sh.
func BenchmarkSearch(b *testing.B) {
	storetest.BenchSearch(b, func(b *testing.B) store.Store {
		dsn, _ := newSchema(b)
		return open(b, dsn)
	})
}
