package natsbus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/postgres"
)

// schemaDSN creates a schema of its own in CHATD_TEST_POSTGRES, dropped
// when the test ends, and returns a DSN that uses it. Without the variable
// the test is skipped, except in CI (CI=true), where it fails.
func schemaDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CHATD_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CHATD_TEST_POSTGRES is not set, and CI must test the cluster")
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
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// apiKey is the publish API's key on every test node.
const apiKey = "cluster-test-key"

// node is one chatd of a test cluster: its own store connection, its own
// bus and its own server, as a separate process would have.
type node struct {
	srv *servertest.Server
	bus *natsbus.Bus
	st  *postgres.Store
}

// startNode starts a node on the database of dsn with the bus cfg. The
// cleanups run in reverse: the server stops, then the bus closes, then
// the store. opts change the server's configuration.
func startNode(t *testing.T, dsn string, cfg natsbus.Config, opts ...func(*server.Config)) *node {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus, err := natsbus.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	scfg := server.Config{Store: st, Accounts: st, Relay: bus, StoreShards: 2, APIKey: apiKey, RequestRate: -1}
	for _, o := range opts {
		o(&scfg)
	}
	srv := servertest.Start(t, scfg)
	bus.Attach(srv.Server)
	return &node{srv: srv, bus: bus, st: st}
}

// noCatchUp leaves delivery to NATS and the gaps it shows: the periodic
// check against the store runs only once, at Attach, within a test.
const noCatchUp = time.Hour

// sharedNATS starts n nodes on one NATS server, embedded in the first
// node and listening for the others, which connect to it as to an
// external deployment.
func sharedNATS(t *testing.T, n int, every time.Duration) []*node {
	t.Helper()
	dsn := schemaDSN(t)
	first := startNode(t, dsn, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "n1", CatchUpInterval: every})
	nodes := []*node{first}
	for i := 2; i <= n; i++ {
		nodes = append(nodes, startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(),
			NodeID: "n" + string(rune('0'+i)), CatchUpInterval: every}))
	}
	return nodes
}
