package natsbus_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
)

// TestPostgreSQLDownAndBack takes PostgreSQL away from a two-node cluster
// while a sender on each node sends: the sends get unavailable and no
// ack, and /readyz answers 503 on every node; resent with the same client_msg_id once it is back, each is stored
// once, the rooms' sequence has no gap, and a receiver on each node gets
// every message once and in order.
func TestPostgreSQLDownAndBack(t *testing.T) {
	dsn, pg := proxiedDSN(t, schemaDSN(t))
	first := startNode(t, dsn, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "n1", CatchUpInterval: 200 * time.Millisecond})
	second := startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "n2", CatchUpInterval: 200 * time.Millisecond})
	nodes := []*node{first, second}
	const room, perNode = "pgdown", 60
	senders, receivers := clients(t, nodes, room)

	var mu sync.Mutex
	acked := map[uint64]string{}
	var sentCount atomic.Int64
	refused := make([]atomic.Int64, len(senders))
	var wg sync.WaitGroup
	for i, c := range senders {
		wg.Go(func() {
			for k := range perNode {
				text, id := fmt.Sprintf("node %d message %d", i+1, k), client.NewMsgID()
				for {
					ack, err := c.SendID(servertest.Context(t), room, text, id)
					if client.ErrorCode(err) == protocol.CodeUnavailable {
						refused[i].Add(1)
						time.Sleep(20 * time.Millisecond) // pacing the resends, not waiting for anything
						continue
					}
					if err != nil {
						t.Errorf("sender %d: %v", i+1, err)
						return
					}
					mu.Lock()
					if old, ok := acked[ack.Seq]; ok && old != text {
						t.Errorf("seq %d acknowledged for %q and %q", ack.Seq, old, text)
					}
					acked[ack.Seq] = text
					mu.Unlock()
					sentCount.Add(1)
					break
				}
				time.Sleep(10 * time.Millisecond) // a steady rate, not a burst
			}
		})
	}
	servertest.WaitFor(t, "some messages acknowledged", func() bool { return sentCount.Load() >= 20 })
	pg.cut()
	cutAt := sentCount.Load()
	servertest.WaitFor(t, "every sender refused with unavailable, and every node not ready", func() bool {
		for i := range refused {
			if refused[i].Load() < 10 {
				return false
			}
		}
		for _, n := range nodes {
			if resp, _ := servertest.Get(t, "http://"+n.srv.Addr+"/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable {
				return false
			}
		}
		return true
	})
	// Whatever was acknowledged during the cut was committed before it.
	if n := sentCount.Load(); n > cutAt+int64(len(senders)) {
		t.Fatalf("%d sends acknowledged while PostgreSQL was away", n-cutAt)
	}
	pg.restore()
	wg.Wait()
	for _, n := range nodes {
		servertest.WaitFor(t, "the nodes ready again", func() bool {
			resp, _ := servertest.Get(t, "http://"+n.srv.Addr+"/readyz", nil)
			return resp.StatusCode == http.StatusOK
		})
	}
	if t.Failed() {
		return
	}
	t.Logf("sends refused while PostgreSQL was away: %d and %d", refused[0].Load(), refused[1].Load())

	n := len(nodes) * perNode
	if len(acked) != n {
		t.Fatalf("%d distinct seqs acknowledged for %d messages", len(acked), n)
	}
	s := &sent{text: acked}
	for i, r := range receivers {
		expectSequence(t, fmt.Sprintf("receiver on node %d", i+1), r, room, s, n)
	}
	msgs, _, err := receivers[0].History(servertest.Context(t), room, 0, n+10)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, m := range msgs {
		if acked[m.Seq] != m.Text {
			t.Fatalf("stored seq %d is %q, acknowledged as %q", m.Seq, m.Text, acked[m.Seq])
		}
		seqs = append(seqs, m.Seq)
	}
	want := make([]uint64, n)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("stored seqs %v, want 1..%d", seqs, n)
	}
}
