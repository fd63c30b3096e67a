package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
	"github.com/chatd/chatd/store/storetest"
)

// reopener returns a function that opens one database file in a new
// temporary directory.
func reopener(t *testing.T) func() store.Store {
	path := filepath.Join(t.TempDir(), "chat.db")
	return func() store.Store {
		t.Helper()
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		return s
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return reopener(t)() }, storetest.Reopen(reopener))
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "chat.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

func TestOpenCreatesParentDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "c", "chat.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "we?ird#dir %41")
	path := filepath.Join(dir, "chat?.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not where asked: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a SQLite database\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"empty path", "", "empty database path"},
		{"path is a directory", dir, "is a directory"},
		{"parent is a file", filepath.Join(file, "chat.db"), "creating the directory"},
		{"directory cannot be created", "/proc/chatd-test/chat.db", "creating the directory"},
		{"not a database", garbage, "not a SQLite database"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlite.Open(context.Background(), c.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", c.path)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open(%q) = %v, want it to say %q", c.path, err, c.want)
			}
			t.Logf("Open(%q): %v", c.path, err)
		})
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A newer chatd migrated it further.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = sqlite.Open(context.Background(), path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	t.Logf("Open: %v", err)
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	for range 3 {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, version int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version < 1 {
		t.Fatalf("schema_version has %d rows, version %d", rows, version)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestWriterSettings holds the writer connection to what the package doc
// promises (synchronous=FULL: an acknowledged Append survives a power
// loss) and to the checkpoint settings the commit cost was measured with.
func TestWriterSettings(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		pragma string
		want   int64
	}{
		{"synchronous", 2}, // FULL
		{"wal_autocheckpoint", 10000},
		{"journal_size_limit", 64 << 20},
		{"temp_store", 2}, // MEMORY
	} {
		got, err := s.WriterPragma(c.pragma)
		if err != nil || got != c.want {
			t.Errorf("PRAGMA %s = %d, %v; want %d", c.pragma, got, err, c.want)
		}
	}
}

// TestLockedBySQLiteWriter: another connection (a sqlite3 shell, say)
// holding the write lock makes Append fail after the busy timeout with a
// clear error, and Append works again once it lets go.
func TestLockedBySQLiteWriter(t *testing.T) {
	defer sqlite.SetBusyTimeout(200 * time.Millisecond)()
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	msg := []store.Message{{Room: "r", Seq: 1, Time: time.Now()}}
	err = s.Append(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), "another process holds a lock") {
		t.Fatalf("Append while locked = %v, want a lock error", err)
	}
	t.Logf("Append: %v", err)
	if last, err := s.LastSeq(context.Background(), "r"); err != nil || last != 0 {
		t.Fatalf("LastSeq while locked = %d, %v; want 0 (reads are not blocked)", last, err)
	}
	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), msg); err != nil {
		t.Fatalf("Append after the lock was released: %v", err)
	}
}

// A batch that fails in the middle of its inserts, here on a message whose
// (room, seq) is already stored although the room's counter was put back
// below it behind the store's back, leaves none of its messages stored,
// and the store appends the next batch as usual.
func TestAFailedInsertLeavesNoneOfItsBatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := func(room string, seq uint64) store.Message {
		return store.Message{Room: room, Seq: seq, From: "u", Text: "t", Time: time.Unix(1, 0).UTC()}
	}
	if err := s.Append(ctx, []store.Message{msg("a", 1), msg("a", 2)}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE room_seqs SET last_seq = 0 WHERE room = 'a'`); err != nil {
		t.Fatal(err)
	}
	var batch []store.Message
	for seq := range uint64(150) {
		batch = append(batch, msg("b", seq+1))
	}
	batch = append(batch, msg("a", 2)) // already stored
	if err := s.Append(ctx, batch); err == nil {
		t.Fatal("Append of a stored (room, seq) succeeded")
	}
	if got, err := s.After(ctx, "b", 0, 1000); err != nil || len(got) != 0 {
		t.Fatalf("After(b) after the failed batch = %d messages, %v; want none", len(got), err)
	}
	if last, err := s.LastSeq(ctx, "b"); err != nil || last != 0 {
		t.Fatalf("LastSeq(b) after the failed batch = %d, %v; want 0", last, err)
	}
	if err := s.Append(ctx, batch[:150]); err != nil {
		t.Fatalf("Append after the failed batch: %v", err)
	}
	if got, err := s.After(ctx, "b", 0, 1000); err != nil || len(got) != 150 {
		t.Fatalf("After(b) = %d messages, %v; want 150", len(got), err)
	}
}
