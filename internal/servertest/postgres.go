package servertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresSchema makes a schema of its own in the PostgreSQL server of
// CHATD_TEST_POSTGRES, dropped when the test ends, and returns a DSN that
// uses it and an administrative connection whose search_path is that
// schema. Without the variable the test is skipped, except in CI
// (CI=true), where it fails: what needs PostgreSQL must be tested there.
func PostgresSchema(t testing.TB) (dsn string, admin *pgx.Conn) {
	t.Helper()
	base := os.Getenv("CHATD_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CHATD_TEST_POSTGRES is not set, and CI must run the tests that need PostgreSQL")
		}
		t.Skip("CHATD_TEST_POSTGRES is not set (eval \"$(scripts/postgres-test-server start)\" starts a server)")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "chatd_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to CHATD_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	if err := unaccentInPublic(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("dropping the test's schema: %v", err)
		}
	})
	if _, err := admin.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema, admin
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), admin
}

// unaccentInPublic installs the unaccent extension that search needs in
// the schema public of admin's database, if the database has it nowhere.
// An extension lives once in a database: a migration would otherwise make
// it in the first test's schema, and dropping that schema would take the
// search configurations of every other test's schema with it.
func unaccentInPublic(ctx context.Context, admin *pgx.Conn) error {
	_, err := admin.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
	if err == nil {
		return nil
	}
	// Another test may have made it meanwhile.
	var n int
	if err2 := admin.QueryRow(ctx, "SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'").Scan(&n); err2 == nil && n == 1 {
		return nil
	}
	return fmt.Errorf("installing unaccent: %w", err)
}
