package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
	"github.com/chatd/chatd/store/storetest"
)

// TestDriverHasFTS5: the search index is an FTS5 table, which exists only
// if the driver's SQLite was compiled with it.
func TestDriverHasFTS5(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE VIRTUAL TABLE t USING fts5 (x, content = '', contentless_delete = 1)`); err != nil {
		t.Fatalf("creating a contentless FTS5 table with deletes: %v", err)
	}
	if _, err := db.Exec(`INSERT INTO t (rowid, x) VALUES (1, 'hello world')`); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.QueryRow(`SELECT rowid FROM t WHERE t MATCH '"hel"*'`).Scan(&id); err != nil || id != 1 {
		t.Fatalf("a prefix query found %d, %v; want row 1", id, err)
	}
}

// TestSearchIndexesMessagesStoredBeforeIt: the migration that adds the
// index indexes the chat messages already stored, and the triggers it
// adds index those stored after.
func TestSearchIndexesMessagesStoredBeforeIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err = s.Append(ctx, []store.Message{
		{Room: "a", Seq: 1, From: "u", Text: "older words", Time: at},
		{Room: "b", Seq: 1, From: "u", Text: "older still", Time: at},
		{Room: "a", Seq: 2, From: "u", Text: "gone", Time: at.Add(time.Second)},
		{Room: "a", Seq: 3, From: "u", Change: store.ChangeDelete, Target: 2, Time: at.Add(time.Second)},
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before search, as an older chatd left it (the
	// threads migration after it goes too, as it is run again).
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER messages_search_insert`, `DROP TRIGGER messages_search_update`,
		`DROP TRIGGER messages_search_delete`, `DROP TABLE search_words`, `DROP TABLE search_docs`,
		`DROP INDEX messages_thread`, `ALTER TABLE messages DROP COLUMN reply_to`, `ALTER TABLE messages DROP COLUMN thread`,
		`ALTER TABLE messages DROP COLUMN also_room`, `ALTER TABLE messages DROP COLUMN replies`,
		`ALTER TABLE messages DROP COLUMN last_reply_seq`, `ALTER TABLE messages DROP COLUMN last_reply_us`,
		`UPDATE schema_version SET version = 5`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(ctx, []store.Message{{Room: "a", Seq: 4, From: "u", Text: "newer words", Time: at.Add(2 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{"older": {"a/1", "b/1"}, "words": {"a/4", "a/1"}, "gone": nil} {
		page, err := s.Search(ctx, store.SearchQuery{Words: store.SearchWords(q), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range page.Hits {
			got = append(got, fmt.Sprintf("%s/%d", m.Room, m.Seq))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Search(%q) = %v; want %v", q, got, want)
		}
	}
}

// BenchmarkSearch: see storetest.BenchSearch and scripts/bench-search.sh.
func BenchmarkSearch(b *testing.B) {
	storetest.BenchSearch(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "chat.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
