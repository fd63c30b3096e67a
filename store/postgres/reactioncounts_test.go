package postgres_test

import (
	"context"
	"testing"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/storetest"
)

// TestMigrationCountsStoredReactions: migration 12 counts the reactions a
// schema holds already, and the counts are kept from there.
func TestMigrationCountsStoredReactions(t *testing.T) {
	dsn, _ := newSchema(t)
	s := open(t, dsn)
	storetest.AppendForReactionCounts(t, s)
	s.Close()

	old := adminConn(t, dsn) // its search_path is the test's schema
	for _, q := range []string{
		`DROP TRIGGER reactions_counted ON reactions`,
		`DROP FUNCTION reactions_count()`,
		`DROP INDEX reactions_by_seq`,
		`DROP INDEX reactions_by_sender`,
		`DROP TABLE reaction_counts`,
		`UPDATE schema_version SET version = 11`,
	} {
		if _, err := old.Exec(context.Background(), q); err != nil {
			t.Fatalf("taking the schema back to version 11: %s: %v", q, err)
		}
	}

	s = open(t, dsn)
	defer s.Close()
	storetest.CheckMigratedReactionCounts(t, s)
}

// BenchmarkReactionStorm: see storetest.BenchReactionStorm.
func BenchmarkReactionStorm(b *testing.B) {
	storetest.BenchReactionStorm(b, func(b *testing.B) store.Store {
		dsn, _ := newSchema(b)
		return open(b, dsn)
	})
}
