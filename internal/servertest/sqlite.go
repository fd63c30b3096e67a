package servertest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/store/sqlite"
)

// SQLite opens a SQLite store in a new file of the test's temporary
// directory, as SQLiteAt does.
func SQLite(tb testing.TB) *sqlite.Store {
	tb.Helper()
	return SQLiteAt(tb, filepath.Join(tb.TempDir(), "chat.db"))
}

// SQLiteAt opens the SQLite store at path and closes it when the test ends.
// Opened before a server is started on it, it closes after that server
// stops, since a test's cleanups run last first.
func SQLiteAt(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("open sqlite %s: %v", path, err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
