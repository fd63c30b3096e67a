package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/postgres"
	"github.com/chatd/chatd/store/storetest"
)

// baseDSN is the test server's DSN from CHATD_TEST_POSTGRES. Without it the
// test is skipped, except in CI (CI=true), where it fails: CI must not
// silently skip the PostgreSQL adapter.
func baseDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("CHATD_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("CHATD_TEST_POSTGRES is not set, and CI must test the PostgreSQL store: " +
				"start a server with eval \"$(scripts/postgres-test-server start)\"")
		}
		tb.Skip("CHATD_TEST_POSTGRES is not set (eval \"$(scripts/postgres-test-server start)\" starts a server)")
	}
	return dsn
}

// withSearchPath returns dsn with its search_path set to schema.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("CHATD_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// newSchema creates a schema of its own for one test in the test database,
// dropped when the test ends, and returns a DSN that uses it.
func newSchema(tb testing.TB) (dsn, schema string) {
	tb.Helper()
	return newSchemaIn(tb, baseDSN(tb))
}

// newSchemaIn is newSchema in the database of the DSN base.
func newSchemaIn(tb testing.TB, base string) (dsn, schema string) {
	tb.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema = "chatd_test_" + hex.EncodeToString(b[:])
	admin := adminConn(tb, base)
	if err := unaccentInPublic(context.Background(), admin); err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("creating schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return withSearchPath(tb, base, schema), schema
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

func adminConn(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connecting to CHATD_TEST_POSTGRES: %v", err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func open(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

func reopener(t *testing.T) func() store.Store {
	dsn, _ := newSchema(t)
	return func() store.Store { return open(t, dsn) }
}

func TestConformance(t *testing.T) {
	baseDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return reopener(t)() }, storetest.Reopen(reopener))
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, func(b *testing.B) store.Store {
		dsn, _ := newSchema(b)
		return open(b, dsn)
	})
}

func TestSchemaTooNew(t *testing.T) {
	dsn, schema := newSchema(t)
	open(t, dsn).Close()
	// A newer chatd migrated it further.
	if _, err := adminConn(t, baseDSN(t)).Exec(context.Background(),
		"UPDATE "+schema+".schema_version SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(context.Background(), dsn)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	t.Logf("Open: %v", err)
}

// TestConcurrentOpen: chatd processes starting together on a new database
// migrate it once.
func TestConcurrentOpen(t *testing.T) {
	dsn, schema := newSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var rows, version int
	if err := adminConn(t, baseDSN(t)).QueryRow(context.Background(),
		"SELECT count(*), max(version) FROM "+schema+".schema_version").Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version < 1 {
		t.Fatalf("schema_version has %d rows, version %d", rows, version)
	}
}

// TestTwoStoresOneRoom: two Stores (two chatd processes) on one database
// appending the same Seq of a room: one wins, the other gets
// ErrSeqConflict, and nothing is stored twice.
func TestTwoStoresOneRoom(t *testing.T) {
	dsn, _ := newSchema(t)
	a, b := open(t, dsn), open(t, dsn)
	defer a.Close()
	defer b.Close()
	for seq := uint64(1); seq <= 20; seq++ {
		msg := []store.Message{{Room: "r", Seq: seq, From: "x", Text: "t", Time: time.Now()}}
		var wg sync.WaitGroup
		var errA, errB error
		wg.Go(func() { errA = a.Append(context.Background(), msg) })
		wg.Go(func() { errB = b.Append(context.Background(), msg) })
		wg.Wait()
		if (errA == nil) == (errB == nil) {
			t.Fatalf("seq %d: errors %v and %v, want exactly one", seq, errA, errB)
		}
		if err := errors.Join(errA, errB); !errors.Is(err, store.ErrSeqConflict) {
			t.Fatalf("seq %d: %v, want ErrSeqConflict", seq, err)
		}
	}
	got, err := a.After(context.Background(), "r", 0, 100)
	if err != nil || len(got) != 20 {
		t.Fatalf("After = %d messages, %v; want 20", len(got), err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, c := range []struct{ name, dsn, want string }{
		{"bad dsn", "postgres://chatd:s3cret@127.0.0.1:notaport/db", "cannot parse"},
		{"nothing listens", "postgres://chatd:s3cret@127.0.0.1:1/db?connect_timeout=5", "connecting"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := postgres.Open(context.Background(), c.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open = %v, want it to say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("Open's error shows the password: %v", err)
			}
			t.Logf("Open: %v", err)
		})
	}
}

func TestOpenChecksEncoding(t *testing.T) {
	base := baseDSN(t)
	admin := adminConn(t, base)
	var b [4]byte
	rand.Read(b[:])
	db := "chatd_test_latin1_" + hex.EncodeToString(b[:])
	_, err := admin.Exec(context.Background(), fmt.Sprintf(
		"CREATE DATABASE %s ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0", db))
	if err != nil {
		t.Skipf("cannot create a LATIN1 database: %v", err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)") })
	var dsn string
	if strings.Contains(base, "://") {
		u, _ := url.Parse(base)
		u.Path = "/" + db
		dsn = u.String()
	} else {
		dsn = base + " dbname=" + db
	}
	s, err := postgres.Open(context.Background(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a LATIN1 database succeeded")
	}
	if !strings.Contains(err.Error(), "LATIN1") {
		t.Fatalf("Open = %v, want it to name the encoding", err)
	}
	t.Logf("Open: %v", err)
}

// An Append refused by a room's counter stores none of its batch, names
// the room, and leaves the store appending as usual, however many are
// refused in a row: a refused Append's connection, left in its aborted
// transaction, must not come back from the pool.
func TestRefusedAppendsLeaveTheStoreUsable(t *testing.T) {
	dsn, _ := newSchema(t)
	s := open(t, dsn)
	defer s.Close()
	ctx := context.Background()
	msg := func(room string, seq uint64) store.Message {
		return store.Message{Room: room, Seq: seq, From: "u", Text: "t", Time: time.Unix(1, 0).UTC()}
	}
	if err := s.Append(ctx, []store.Message{msg("a", 1), msg("a", 2), msg("a", 3)}); err != nil {
		t.Fatal(err)
	}
	for i := range 40 { // more than the pool holds
		err := s.Append(ctx, []store.Message{msg("b", 1), msg("a", 2)})
		if !errors.Is(err, store.ErrSeqConflict) || !strings.Contains(err.Error(), `room "a"`) {
			t.Fatalf("refused Append %d = %v, want ErrSeqConflict naming room \"a\"", i, err)
		}
	}
	if last, err := s.LastSeq(ctx, "b"); err != nil || last != 0 {
		t.Fatalf("LastSeq(b) = %d, %v; want 0", last, err)
	}
	if err := s.Append(ctx, []store.Message{msg("b", 1), msg("a", 4)}); err != nil {
		t.Fatalf("Append after the refused ones: %v", err)
	}
	if got, err := s.After(ctx, "a", 0, 10); err != nil || len(got) != 4 {
		t.Fatalf("After(a) = %d messages, %v; want 4", len(got), err)
	}
}
