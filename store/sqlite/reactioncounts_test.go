package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
	"github.com/chatd/chatd/store/storetest"
)

// TestMigrationCountsStoredReactions: migration 9 counts the reactions a
// database holds already, and the counts are kept from there.
func TestMigrationCountsStoredReactions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.AppendForReactionCounts(t, s)
	s.Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TRIGGER reactions_counted_in`,
		`DROP TRIGGER reactions_counted_out`,
		`DROP INDEX reactions_by_seq`,
		`DROP INDEX reactions_by_sender`,
		`DROP TABLE reaction_counts`,
		`UPDATE schema_version SET version = 8`,
	} {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			t.Fatalf("taking the database back to version 8: %s: %v", q, err)
		}
	}
	db.Close()

	s, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open of a version 8 database: %v", err)
	}
	defer s.Close()
	storetest.CheckMigratedReactionCounts(t, s)
}

// BenchmarkReactionStorm: see storetest.BenchReactionStorm.
func BenchmarkReactionStorm(b *testing.B) {
	storetest.BenchReactionStorm(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "chat.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
