package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/postgres"
)

// postgresSchema opens a PostgreSQL store in a schema of its own in
// CHATD_TEST_POSTGRES, dropped when the test ends, and returns it with an
// administrative connection to the same schema. Without the variable the
// test is skipped, except in CI (CI=true), where it fails.
func postgresSchema(t *testing.T) (*postgres.Store, *pgx.Conn) {
	t.Helper()
	dsn, admin := servertest.PostgresSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, admin
}

// PostgreSQL itself refuses the writes (a constraint every new row breaks,
// as a full disk or a read-only standby would): the refused messages take
// no sequence number, and neither does the store's own seq row.
func TestARefusedPostgreSQLWriteLeavesNoHole(t *testing.T) {
	st, admin := postgresSchema(t)
	ts := servertest.Start(t, server.Config{Store: st, SendRate: -1})
	a := dialJSON(t, ts, "room=r&name=a")
	a.do(`{"type":"send","room":"r","text":"1"}`)
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("ALTER TABLE messages ADD CONSTRAINT refuse_all CHECK (seq < 0) NOT VALID")
	for i := range 3 {
		if r := a.request(fmt.Sprintf(`{"type":"send","room":"r","text":"refused %d","client_msg_id":"m%d"}`, i, i)); r["code"] != "unavailable" {
			t.Fatalf("send while PostgreSQL refuses: %v", r)
		}
	}
	exec("ALTER TABLE messages DROP CONSTRAINT refuse_all")
	if ack := a.do(`{"type":"send","room":"r","text":"2","client_msg_id":"m0"}`); ack["seq"] != float64(2) || ack["duplicate"] != nil {
		t.Fatalf("the first message after the refusals: %v, want a new message with seq 2", ack)
	}
	late := dialJSON(t, ts, "name=late")
	if msgs, _ := late.joinCollect(`{"type":"join","room":"r","since":0}`); fmt.Sprint(seqs(msgs)) != "[1 2]" {
		t.Fatalf("recovery replayed %v", seqs(msgs))
	}
}
