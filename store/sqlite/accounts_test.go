package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
	"github.com/chatd/chatd/store/storetest"
)

// accountsReopener returns a function that opens one database file in a
// new temporary directory, for the Accounts suite.
func accountsReopener(t *testing.T) func() store.Accounts {
	path := filepath.Join(t.TempDir(), "chat.db")
	return func() store.Accounts {
		t.Helper()
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		return s
	}
}

func TestAccountsConformance(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T) store.Accounts { return accountsReopener(t)() },
		storetest.ReopenAccounts(accountsReopener))
}

// TestMigrateFromVersion1 opens a database that an older chatd made, with
// messages and read positions, and checks that the migration to the
// accounts schema keeps them and adds working accounts.
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	init, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	latest, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_version (version INTEGER NOT NULL)`,
		`INSERT INTO schema_version (version) VALUES (1)`,
		string(init),
		`INSERT INTO messages (room, seq, sender, text, client_msg_id, time_us) VALUES ('lobby', 7, 'alice', 'hi', 'm7', 1000000)`,
		`INSERT INTO room_seqs (room, last_seq) VALUES ('lobby', 9)`,
		`INSERT INTO read_positions (user_name, room, seq) VALUES ('alice', 'lobby', 7)`,
	} {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			t.Fatalf("making a version 1 database: %v", err)
		}
	}
	db.Close()

	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	defer s.Close()
	storetest.CheckMigratedV1(t, s)
	s.Close()

	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(`SELECT version FROM schema_version`).Scan(&version); err != nil || version != len(latest) {
		t.Fatalf("schema version after the migration = %d, %v; want %d", version, err, len(latest))
	}
}
