package natsbus_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
)

// TestRelayLatencyIsMeasured has one node send and another deliver: the
// receiving node measures each message's time from its commit on the
// sender's node, and the sending node measures none.
func TestRelayLatencyIsMeasured(t *testing.T) {
	dsn := schemaDSN(t)
	var mu sync.Mutex
	took := map[string][]time.Duration{}
	observe := func(node string) func(time.Duration) {
		return func(d time.Duration) {
			mu.Lock()
			took[node] = append(took[node], d)
			mu.Unlock()
		}
	}
	first := startNode(t, dsn, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "l1", CatchUpInterval: noCatchUp, OnRelayed: observe("l1")})
	second := startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "l2", CatchUpInterval: noCatchUp, OnRelayed: observe("l2")})
	const room, n = "latency", 5
	sender := servertest.Dial(t, first.srv.URL(), client.Options{Name: "sender", Rooms: []string{room}})
	receiver := servertest.Dial(t, second.srv.URL(), client.Options{Name: "receiver", Rooms: []string{room}})
	if err := flushAll([]*node{first, second}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range n {
		if _, err := sender.Send(servertest.Context(t), room, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		servertest.Next[*client.Message](t, receiver)
	}
	elapsed := time.Since(start)
	servertest.WaitFor(t, "a latency for each relayed message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(took["l2"]) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for _, d := range took["l2"] {
		// One clock on one machine: between the commit and now.
		if d < 0 || d > elapsed {
			t.Errorf("relay latency %v, want within [0, %v]", d, elapsed)
		}
	}
	if len(took["l1"]) != 0 {
		t.Errorf("the sending node measured %v: its own messages are not relayed to it", took["l1"])
	}
}
