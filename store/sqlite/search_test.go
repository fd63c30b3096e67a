package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
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
// adds index those stored after; the one that folds accents indexes them
// again without their accents.
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
		{Room: "b", Seq: 1, From: "u", Text: "older still, café", Time: at},
		{Room: "a", Seq: 2, From: "u", Text: "gone", Time: at.Add(time.Second)},
		{Room: "a", Seq: 3, From: "u", Change: store.ChangeDelete, Target: 2, Time: at.Add(time.Second)},
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before search, as an older chatd left it (the
	// threads and reaction counts migrations after it go too, as they are
	// run again).
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER messages_search_insert`, `DROP TRIGGER messages_search_update`,
		`DROP TRIGGER messages_search_delete`, `DROP TABLE search_words`, `DROP TABLE search_docs`,
		`DROP TRIGGER reactions_counted_in`, `DROP TRIGGER reactions_counted_out`, `DROP INDEX reactions_by_seq`,
		`DROP INDEX reactions_by_sender`, `DROP TABLE reaction_counts`,
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
	storetest.CheckSearches(t, s, map[string][]string{"older": {"a/1", "b/1"}, "words": {"a/4", "a/1"}, "gone": nil, "cafe": {"b/1"}})
	// The room and the author of the messages stored before are indexed
	// too.
	page, err := s.Search(ctx, store.SearchQuery{Words: store.SearchWords("older"), Room: "b", From: "u", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Hits) != 1 || page.Hits[0].Room != "b" || page.Hits[0].Seq != 1 {
		t.Errorf("Search(older in b by u) = %v; want b/1", page.Hits)
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

// TestSearchWalksTheIndexNewestFirst: every kind of search starts from the
// FTS5 index, which gets the room, the author and the time bounds as
// constraints of its own and the newest-first order without a sort, so
// that a page reads about as many index entries as it has hits; best first
// sorts only its window of the newest matches.
func TestSearchWalksTheIndexNewestFirst(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.Append(ctx, []store.Message{{Room: "a", Seq: 1, From: "u", Text: "hello there", Time: at}}); err != nil {
		t.Fatal(err)
	}
	hello := store.SearchWords("hello")
	for _, tc := range []struct {
		name string
		q    store.SearchQuery
	}{
		{"words", store.SearchQuery{Words: hello}},
		{"room", store.SearchQuery{Words: hello, Room: "a"}},
		{"author", store.SearchQuery{Words: hello, From: "u"}},
		{"room and author", store.SearchQuery{Words: hello, Room: "a", From: "u"}},
		{"after", store.SearchQuery{Words: hello, After: at.Add(-time.Hour)}},
		{"before", store.SearchQuery{Words: hello, Before: at.Add(time.Hour)}},
		{"best", store.SearchQuery{Words: hello, Order: store.SearchBest}},
		{"best in a room", store.SearchQuery{Words: hello, Order: store.SearchBest, Room: "a", From: "u", After: at.Add(-time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 20
			plan, err := s.SearchPlan(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var first string
			sorts := 0
			for _, step := range plan {
				if first == "" && (strings.HasPrefix(step, "SCAN") || strings.HasPrefix(step, "SEARCH")) {
					first = step
				}
				if strings.Contains(step, "TEMP B-TREE") {
					sorts++
				}
			}
			// FTS5's index number 192 is a walk in descending rowid order;
			// "><" are its rowid bounds.
			if !strings.Contains(first, "VIRTUAL TABLE INDEX 192:") || !strings.HasSuffix(first, "><") {
				t.Errorf("the first step reads %q; want the FTS5 index walked newest first within rowid bounds\nplan: %q", first, plan)
			}
			if wantSorts := map[bool]int{false: 0, true: 1}[tc.q.Order == store.SearchBest]; sorts != wantSorts {
				t.Errorf("the plan sorts %d times; want %d\nplan: %q", sorts, wantSorts, plan)
			}
			for _, step := range plan {
				if strings.Contains(step, "SCAN") && !strings.Contains(step, "VIRTUAL TABLE") && step != "SCAN w" {
					t.Errorf("the plan scans a table: %q\nplan: %q", step, plan)
				}
			}
		})
	}
}

// TestSearchIndexHoldsRoomAndAuthor: the room and the author of each chat
// message are terms of the FTS5 index (tags 'r' and 'f' and their hex), so
// that the index itself narrows a search to them; the terms follow the
// message through an edit and leave with a delete.
func TestSearchIndexHoldsRoomAndAuthor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err = s.Append(ctx, []store.Message{
		{Room: "a", Seq: 1, From: "u", Text: "hello one", Time: at},
		{Room: "b", Seq: 1, From: "u", Text: "hello two", Time: at},
		{Room: "a", Seq: 2, From: "v ü", Text: "hello three", Time: at},
		{Room: "a", Seq: 3, From: "v ü", Text: "hello four", Time: at},
		{Room: "a", Seq: 4, From: "v ü", Change: store.ChangeEdit, Target: 2, Text: "goodbye three", Time: at},
		{Room: "a", Seq: 5, From: "v ü", Change: store.ChangeDelete, Target: 3, Time: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tag := func(kind, name string) string { return fmt.Sprintf(`tags : "%s%x"`, kind, name) }
	for _, tc := range []struct {
		match string
		want  int
	}{
		{`text : "hello"`, 2},
		{`text : "hello" AND ` + tag("r", "a"), 1},
		{`text : "hello" AND ` + tag("r", "b"), 1},
		{`text : "hello" AND ` + tag("f", "v ü"), 0},
		{`text : "goodbye" AND ` + tag("f", "v ü") + ` AND ` + tag("r", "a"), 1},
		{`text : "four"`, 0},
		{tag("r", "a"), 2},
		{tag("f", "u"), 2},
	} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM search_words WHERE search_words MATCH ?`, tc.match).Scan(&n); err != nil {
			t.Errorf("%s: %v", tc.match, err)
			continue
		}
		if n != tc.want {
			t.Errorf("%s matched %d messages; want %d", tc.match, n, tc.want)
		}
	}
}
