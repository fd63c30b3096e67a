package natsbus_test

import (
	"fmt"
	neturl "net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
)

// runNATS starts a NATS server of its own on port (-1: any), as an
// operator's deployment would be, and stops it when the test ends.
func runNATS(t *testing.T, port int) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// TestNATSRestartedUnderLoad stops the NATS deployment while senders on
// three nodes keep writing, and starts it again: the nodes serve their own
// clients meanwhile, reconnect, and every receiver still gets every
// message once, in order.
func TestNATSRestartedUnderLoad(t *testing.T) {
	dsn := schemaDSN(t)
	ns := runNATS(t, -1)
	url := ns.ClientURL()
	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, dsn, natsbus.Config{URLs: url, NodeID: fmt.Sprintf("n%d", i+1), CatchUpInterval: noCatchUp}))
	}
	const room, perNode = "restart", 30
	senders, receivers := clients(t, nodes, room)
	s := &sent{text: make(map[uint64]string)}
	var wg sync.WaitGroup
	errs := make(chan error, len(senders))
	halfway := make(chan struct{}, len(senders))
	for i, c := range senders {
		wg.Go(func() {
			for k := range perNode {
				if k == perNode/2 {
					halfway <- struct{}{}
				}
				text := fmt.Sprintf("node %d message %d", i+1, k)
				ack, err := c.Send(servertest.Context(t), room, text)
				if err != nil {
					errs <- err
					return
				}
				s.mu.Lock()
				s.text[ack.Seq] = text
				s.mu.Unlock()
			}
		})
	}
	for range senders {
		<-halfway
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	restarted := runNATS(t, natsPort(t, url))
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if restarted.NumClients() == 0 {
		servertest.WaitFor(t, "the nodes to reconnect", func() bool { return restarted.NumClients() == len(nodes) })
	}
	for i, r := range receivers {
		expectSequence(t, fmt.Sprintf("receiver on node %d", i+1), r, room, s, len(nodes)*perNode)
	}
}

// natsPort is the port of a nats:// URL.
func natsPort(t *testing.T, raw string) int {
	t.Helper()
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return port
}
