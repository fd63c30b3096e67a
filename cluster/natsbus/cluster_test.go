package natsbus_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
)

// clusterWait bounds how long a receiver may take to see every message;
// a gap left by a lost notice may wait for the periodic catch-up.
const clusterWait = 15 * time.Second

// sent maps each acknowledged sequence number to its text.
type sent struct {
	mu   sync.Mutex
	text map[uint64]string
}

// sendFromEveryNode has one sender on each node send perNode messages to
// room, all at once, and returns what the acks said.
func sendFromEveryNode(t *testing.T, senders []*client.Client, room string, perNode int) *sent {
	t.Helper()
	s := &sent{text: make(map[uint64]string)}
	var wg sync.WaitGroup
	errs := make(chan error, len(senders))
	for i, c := range senders {
		wg.Go(func() {
			for k := range perNode {
				text := fmt.Sprintf("node %d message %d", i+1, k)
				ack, err := c.Send(servertest.Context(t), room, text)
				if err != nil {
					errs <- fmt.Errorf("sender %d: %w", i+1, err)
					return
				}
				s.mu.Lock()
				if old, ok := s.text[ack.Seq]; ok {
					errs <- fmt.Errorf("seq %d acknowledged twice: %q and %q", ack.Seq, old, text)
				}
				s.text[ack.Seq] = text
				s.mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return s
}

// expectSequence checks that r receives room's messages 1..n, each once,
// in order, each with the text its sender was acknowledged for.
func expectSequence(t *testing.T, who string, r *client.Client, room string, s *sent, n int) {
	t.Helper()
	timeout := time.After(clusterWait)
	var seqs []uint64
	for len(seqs) < n {
		select {
		case ev, ok := <-r.Events():
			if !ok {
				t.Fatalf("%s: events ended: %v", who, r.Err())
			}
			m, ok := ev.(*client.Message)
			if !ok || m.Room != room {
				continue
			}
			seqs = append(seqs, m.Seq)
			if want := s.text[m.Seq]; m.Text != want {
				t.Fatalf("%s: seq %d is %q, acknowledged as %q", who, m.Seq, m.Text, want)
			}
		case <-timeout:
			t.Fatalf("%s: %d of %d messages within %v; got seqs %v", who, len(seqs), n, clusterWait, seqs)
		}
	}
	want := make([]uint64, n)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("%s: seqs %v, want 1..%d once each in order", who, seqs, n)
	}
}

// clients dials a sender and a receiver on every node, in room.
func clients(t *testing.T, nodes []*node, room string) (senders, receivers []*client.Client) {
	t.Helper()
	for i, n := range nodes {
		senders = append(senders, servertest.Dial(t, n.srv.URL(), client.Options{Name: fmt.Sprintf("send%d", i+1), Rooms: []string{room}}))
		receivers = append(receivers, servertest.Dial(t, n.srv.URL(), client.Options{Name: fmt.Sprintf("recv%d", i+1), Rooms: []string{room}}))
	}
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	return senders, receivers
}

// flushAll waits until NATS has every node's subscriptions.
func flushAll(nodes []*node) error {
	for _, n := range nodes {
		if err := natsbus.Flush(n.bus); err != nil {
			return err
		}
	}
	return nil
}

// TestEveryNodeSeesOneSequence has senders on three nodes write to one
// room at once: the store numbers the messages, and every receiver, on
// every node, sees the same numbers with the same texts, in order, once.
// Only NATS and the gap fills it triggers deliver: the periodic check
// against the store does not run.
func TestEveryNodeSeesOneSequence(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room, perNode = "go.nuts", 40 // a '.' in the name: subjects must encode it
	senders, receivers := clients(t, nodes, room)
	s := sendFromEveryNode(t, senders, room, perNode)
	for i, r := range receivers {
		expectSequence(t, fmt.Sprintf("receiver on node %d", i+1), r, room, s, len(nodes)*perNode)
	}
}

// TestLostNoticesAreFilledFromTheStore drops every third notice: a node
// sees the gap at the next number and reads it from the store, and the
// periodic catch-up delivers a room's last message when its notice was
// the one lost.
func TestLostNoticesAreFilledFromTheStore(t *testing.T) {
	nodes := sharedNATS(t, 3, 100*time.Millisecond)
	for _, n := range nodes {
		natsbus.DropEvery(n.bus, 3)
	}
	const room, perNode = "lossy", 30
	senders, receivers := clients(t, nodes, room)
	s := sendFromEveryNode(t, senders, room, perNode)
	for i, r := range receivers {
		expectSequence(t, fmt.Sprintf("receiver on node %d", i+1), r, room, s, len(nodes)*perNode)
	}
	var filled uint64
	for i, n := range nodes {
		filled += n.srv.Stats().FilledFromStore
		if st := n.bus.Stats(); !st.Connected || st.Nodes != 2 || st.NoticesOut == 0 || st.NoticesIn == 0 {
			t.Errorf("node %d: %+v, want connected, 2 other nodes, notices in and out", i+1, st)
		}
	}
	if filled == 0 {
		t.Error("no message was filled from the store, though every third notice was dropped")
	}
	// The last message alone, its notice lost on every node: only the
	// catch-up can deliver it.
	for _, n := range nodes {
		natsbus.DropEvery(n.bus, 1)
	}
	ack, err := senders[0].Send(servertest.Context(t), room, "last")
	if err != nil {
		t.Fatal(err)
	}
	s.text[ack.Seq] = "last"
	for i, r := range receivers[1:] {
		m := servertest.Next[*client.Message](t, r)
		if m.Seq != ack.Seq || m.Text != "last" {
			t.Fatalf("receiver on node %d: seq %d %q, want %d \"last\"", i+2, m.Seq, m.Text, ack.Seq)
		}
	}
}

// TestRoutedEmbeddedServers runs the cluster on chatd's embedded NATS
// servers alone, routed to each other: nothing but chatd and PostgreSQL.
func TestRoutedEmbeddedServers(t *testing.T) {
	dsn := schemaDSN(t)
	first := startNode(t, dsn, natsbus.Config{Cluster: "127.0.0.1:0", NodeID: "r1", CatchUpInterval: noCatchUp})
	routes := []string{"nats://" + first.bus.ClusterAddr()}
	nodes := []*node{first,
		startNode(t, dsn, natsbus.Config{Cluster: "127.0.0.1:0", Routes: routes, NodeID: "r2", CatchUpInterval: noCatchUp}),
		startNode(t, dsn, natsbus.Config{Cluster: "127.0.0.1:0", Routes: routes, NodeID: "r3", CatchUpInterval: noCatchUp}),
	}
	const room = "routed"
	senders, receivers := clients(t, nodes, room)
	// Routes form, and interest spreads over them, in the background:
	// send until a message reaches every other node live.
	warm := &sent{text: make(map[uint64]string)}
	deadline := time.Now().Add(clusterWait)
	var got []uint64
	for {
		ack, err := senders[0].Send(servertest.Context(t), room, "warm-up")
		if err != nil {
			t.Fatal(err)
		}
		warm.text[ack.Seq] = "warm-up"
		got = got[:0]
		for _, r := range receivers[1:] {
			select {
			case ev := <-r.Events():
				if m, ok := ev.(*client.Message); ok {
					got = append(got, m.Seq)
				}
			case <-time.After(100 * time.Millisecond):
			}
		}
		if len(got) == len(receivers)-1 && got[0] == ack.Seq && got[len(got)-1] == ack.Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the embedded servers did not route within %v", clusterWait)
		}
	}
	// Count on from the warm-up's numbers; the warm-up messages still on
	// their way to a receiver are skipped.
	base := uint64(len(warm.text))
	s := sendFromEveryNode(t, senders, room, 20)
	for i, r := range receivers {
		expectSequenceFrom(t, fmt.Sprintf("receiver on node %d", i+1), r, room, s, base, 3*20)
	}
}

// expectSequenceFrom is expectSequence for the numbers after base.
func expectSequenceFrom(t *testing.T, who string, r *client.Client, room string, s *sent, base uint64, n int) {
	t.Helper()
	timeout := time.After(clusterWait)
	for want := base + 1; want <= base+uint64(n); want++ {
		for {
			var m *client.Message
			select {
			case ev, ok := <-r.Events():
				if !ok {
					t.Fatalf("%s: events ended: %v", who, r.Err())
				}
				m, _ = ev.(*client.Message)
			case <-timeout:
				t.Fatalf("%s: no seq %d within %v", who, want, clusterWait)
			}
			if m == nil || m.Room != room || m.Seq <= base {
				continue // a warm-up message still on its way
			}
			if m.Seq != want || m.Text != s.text[m.Seq] {
				t.Fatalf("%s: seq %d %q, want seq %d %q", who, m.Seq, m.Text, want, s.text[want])
			}
			break
		}
	}
}

// TestRecoverOnAnotherNode has a client that saw part of a room on one
// node recover the rest with since on another node: the messages were sent
// through a third.
func TestRecoverOnAnotherNode(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room = "recover"
	sender := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "sender", Rooms: []string{room}})
	var texts []string
	for i := range 6 {
		text := fmt.Sprintf("m%d", i+1)
		ack, err := sender.Send(servertest.Context(t), room, text)
		if err != nil {
			t.Fatal(err)
		}
		if ack.Seq != uint64(i+1) {
			t.Fatalf("seq %d, want %d", ack.Seq, i+1)
		}
		texts = append(texts, text)
	}
	ctx := servertest.Context(t)
	ws, _, err := websocket.Dial(ctx, nodes[2].srv.URL()+"?name=reader", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	since := uint64(2)
	req, _ := json.Marshal(protocol.Request{Type: "join", ID: "j", Room: room, Since: &since})
	if err := ws.Write(ctx, websocket.MessageText, req); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("reading the replay: %v (got %v)", err, got)
		}
		var head struct {
			Type string `json:"type"`
			protocol.Message
		}
		if err := json.Unmarshal(b, &head); err != nil {
			t.Fatal(err)
		}
		if head.Type == "ack" {
			break
		}
		if head.Type == "message" {
			got = append(got, fmt.Sprintf("%d:%s", head.Seq, head.Text))
		}
	}
	var want []string
	for i := 2; i < len(texts); i++ {
		want = append(want, fmt.Sprintf("%d:%s", i+1, texts[i]))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("recovered %v, want %v", got, want)
	}
	// Live messages follow the replay with no gap, from any node.
	if _, err := sender.Send(ctx, room, "live"); err != nil {
		t.Fatal(err)
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m protocol.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "message" {
			if m.Seq != 7 || m.Text != "live" {
				t.Fatalf("live message %d %q, want 7 \"live\"", m.Seq, m.Text)
			}
			return
		}
	}
}

// TestReadyNeedsNATS has a node answer /readyz with 503 while its NATS
// server is gone, naming the cause.
func TestReadyNeedsNATS(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	ready := "http://" + nodes[1].srv.Addr + "/readyz"
	if resp, body := servertest.Get(t, ready, nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz with NATS up: %d %q", resp.StatusCode, body)
	}
	nodes[0].bus.Close() // the NATS server the second node connects to
	var body string
	servertest.WaitFor(t, "/readyz to answer 503", func() bool {
		var resp *http.Response
		resp, body = servertest.Get(t, ready, nil)
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "cluster: nats") {
		t.Fatalf("/readyz says %q, want the NATS connection named", body)
	}
}
