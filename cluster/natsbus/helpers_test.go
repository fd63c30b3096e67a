package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/postgres"
)

// schemaDSN returns a DSN of a schema of the test's own (see
// servertest.PostgresSchema).
func schemaDSN(t *testing.T) string {
	t.Helper()
	dsn, _ := servertest.PostgresSchema(t)
	return dsn
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
