package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/storetest"
)

// accountsReopener returns a function that opens one new schema of its
// own, for the Accounts suite.
func accountsReopener(t *testing.T) func() store.Accounts {
	dsn, _ := newSchema(t)
	return func() store.Accounts { return open(t, dsn) }
}

func TestAccountsConformance(t *testing.T) {
	baseDSN(t)
	storetest.RunAccounts(t, func(t *testing.T) store.Accounts { return accountsReopener(t)() },
		storetest.ReopenAccounts(accountsReopener))
}

// TestAccountsTwoStores: two Stores (two chatd processes) on one database
// registering the same user and room at once: one wins, the other gets
// ErrExists.
func TestAccountsTwoStores(t *testing.T) {
	dsn, _ := newSchema(t)
	a, b := open(t, dsn), open(t, dsn)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	var errA, errB error
	done := make(chan struct{})
	go func() {
		errA = a.CreateUser(ctx, store.User{Key: "alice", Name: "a", Created: time.Now()})
		close(done)
	}()
	errB = b.CreateUser(ctx, store.User{Key: "alice", Name: "b", Created: time.Now()})
	<-done
	if (errA == nil) == (errB == nil) || !errors.Is(errors.Join(errA, errB), store.ErrExists) {
		t.Fatalf("CreateUser from two stores = %v and %v, want one ErrExists", errA, errB)
	}
	done = make(chan struct{})
	go func() {
		errA = a.CreateRoom(ctx, store.Room{Name: "r", Owner: "a", Created: time.Now()})
		close(done)
	}()
	errB = b.CreateRoom(ctx, store.Room{Name: "r", Owner: "b", Created: time.Now()})
	<-done
	if (errA == nil) == (errB == nil) || !errors.Is(errors.Join(errA, errB), store.ErrExists) {
		t.Fatalf("CreateRoom from two stores = %v and %v, want one ErrExists", errA, errB)
	}
	members, err := b.Members(ctx, "r")
	if err != nil || len(members) != 1 {
		t.Fatalf("Members = %q, %v; want only the winning owner", members, err)
	}
}

// TestMigrateFromVersion1 opens a schema that an older chatd made, with
// messages and read positions, and checks that the migration to the
// accounts schema keeps them and adds working accounts.
func TestMigrateFromVersion1(t *testing.T) {
	dsn, schema := newSchema(t)
	init, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	latest, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := adminConn(t, dsn) // its search_path is the new schema
	for _, q := range []string{
		`CREATE TABLE schema_version (version integer NOT NULL)`,
		`INSERT INTO schema_version (version) VALUES (1)`,
		string(init),
		`INSERT INTO messages (room, seq, sender, text, client_msg_id, time)
			VALUES ('lobby', 7, 'alice', 'hi', 'm7', '1970-01-01 00:00:01+00')`,
		`INSERT INTO room_seqs (room, last_seq) VALUES ('lobby', 9)`,
		`INSERT INTO read_positions (user_name, room, seq) VALUES ('alice', 'lobby', 7)`,
	} {
		if _, err := old.Exec(context.Background(), q); err != nil {
			t.Fatalf("making a version 1 schema: %v", err)
		}
	}

	s := open(t, dsn)
	defer s.Close()
	storetest.CheckMigratedV1(t, s)
	ctx := context.Background()
	var version int
	if err := adminConn(t, baseDSN(t)).QueryRow(ctx, "SELECT version FROM "+schema+".schema_version").Scan(&version); err != nil || version != len(latest) {
		t.Fatalf("schema version after the migration = %d, %v; want %d", version, err, len(latest))
	}
}

// TestAccountsICUDatabase runs the Accounts suite in a database whose
// default collation is ICU English, as a server installed with a system
// locale has, rather than the test server's C: keys must still be compared
// and sorted byte for byte.
func TestAccountsICUDatabase(t *testing.T) {
	base := baseDSN(t)
	admin := adminConn(t, base)
	var b [4]byte
	rand.Read(b[:])
	db := "chatd_test_icu_" + hex.EncodeToString(b[:])
	_, err := admin.Exec(context.Background(), fmt.Sprintf(
		"CREATE DATABASE %s ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C' TEMPLATE template0", db))
	if err != nil {
		t.Skipf("cannot create a database with an ICU collation: %v", err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)") })
	dsn := withDatabase(t, base, db)
	reopen := func(t *testing.T) func() store.Accounts {
		dsn, _ := newSchemaIn(t, dsn)
		return func() store.Accounts { return open(t, dsn) }
	}
	storetest.RunAccounts(t, func(t *testing.T) store.Accounts { return reopen(t)() }, storetest.ReopenAccounts(reopen))
}

// withDatabase returns dsn with its database set to db.
func withDatabase(tb testing.TB, dsn, db string) string {
	tb.Helper()
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("CHATD_TEST_POSTGRES: %v", err)
		}
		u.Path = "/" + db
		return u.String()
	}
	return dsn + " dbname=" + db
}
