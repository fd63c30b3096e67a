package systemtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/protocol"
)

// partitionWait bounds each step of the partition test: a node timeout,
// a presence interval, the catch-up and NATS's reconnects, with room to
// spare on a busy machine.
const partitionWait = 15 * time.Second

// partitionNodeTimeout is the nodes' -node-timeout: short, so that the
// test sees the others give up on the node cut off within seconds.
const partitionNodeTimeout = "3s"

// TestPartitionedNodeConvergesAfterHealing runs three chatd processes, each
// in a network namespace of its own, routed over their embedded NATS
// servers and sharing one PostgreSQL, and cuts the third off the cluster
// network, then off PostgreSQL too, then heals both. What its clients see
// is what docs/deploy.md says ("What a partition looks like"):
//   - cut off the others only: every send is still stored and acknowledged,
//     and every message still reaches every client on both sides, in
//     order, through the periodic check against the store; after the node
//     timeout each side sees the other side's users leave;
//   - cut off PostgreSQL too: its clients' sends get unavailable, its
//     /readyz answers 503, and the other nodes carry on;
//   - healed: presence converges, and every client on every node ends with
//     one identical sequence of the room's messages, with no gap and no
//     duplicate.
func TestPartitionedNodeConvergesAfterHealing(t *testing.T) {
	t0 := time.Now()
	l := newLab(t, 3)
	dsn := schemaDSN(t)
	bin := buildChatd(t)
	pg, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, nd := range l.nodes {
		routes = append(routes, "nats://"+nd.cluster.String()+":6222")
	}
	var nodes []*node
	var fwds []*forwarder
	for i, nd := range l.nodes {
		// Each node reaches PostgreSQL through a forwarder of its own, on
		// the test's end of its front, which cuts it off on demand.
		f := forward(t, nd.host.String(), pg.Host)
		fwds = append(fwds, f)
		u := *pg
		u.Host = f.Addr()
		nodes = append(nodes, startLabChatd(t, l, i, bin, "-addr", nd.addr.String()+":8082", "-store", u.String(),
			"-nats-cluster", nd.cluster.String()+":6222", "-nats-routes", strings.Join(routes, ","),
			"-node-id", fmt.Sprintf("p%d", i+1), "-node-timeout", partitionNodeTimeout,
			"-send-rate", "0", "-request-rate", "0", "-log-level", "debug"))
	}

	t.Logf("%v nodes started", time.Since(t0).Round(time.Millisecond))
	const room = "split"
	var senders, watchers []*client.Client
	for i, n := range nodes {
		senders = append(senders, labDial(t, n.url(), fmt.Sprintf("s%d", i+1), room, true))
		watchers = append(watchers, labDial(t, n.url(), fmt.Sprintf("w%d", i+1), room, false))
	}
	everyone := []string{"s1", "s2", "s3", "w1", "w2", "w3"}
	for i, w := range watchers {
		waitWho(t, w, room, everyone, fmt.Sprintf("watcher on node %d, the cluster formed", i+1))
	}

	log := newSendLog()
	sendEach := func(from []int, k int, step string) {
		t.Helper()
		var wg sync.WaitGroup
		for _, i := range from {
			wg.Go(func() {
				for j := range k {
					log.send(t, senders[i], room, fmt.Sprintf("%s: s%d %d", step, i+1, j))
				}
			})
		}
		wg.Wait()
	}
	readers := make([]*reader, len(watchers))
	for i, w := range watchers {
		readers[i] = &reader{c: w, room: room}
	}
	sendEach([]int{0, 1, 2}, 3, "before")
	for i, r := range readers {
		r.expect(t, fmt.Sprintf("watcher on node %d before the cut", i+1), log)
	}

	// Node 3 off the cluster network: stores and delivers still, through
	// PostgreSQL; presence splits after the node timeout.
	t.Logf("%v cutting node 3 off the cluster network", time.Since(t0).Round(time.Millisecond))
	l.cut(2)
	sendEach([]int{0, 2}, 5, "cut off")
	for i, r := range readers {
		r.expect(t, fmt.Sprintf("watcher on node %d, node 3 cut off", i+1), log)
	}
	waitWho(t, watchers[0], room, []string{"s1", "s2", "w1", "w2"}, "watcher on node 1 to see node 3's users leave")
	waitWho(t, watchers[2], room, []string{"s3", "w3"}, "watcher on node 3 to see the other nodes' users leave")
	if code := readyz(t, nodes[2]); code != http.StatusOK {
		t.Errorf("node 3's /readyz answers %d while cut off the others only, want 200: it serves its clients", code)
	}

	// Node 3 off PostgreSQL too: its sends are refused.
	t.Logf("%v cutting node 3 off PostgreSQL too", time.Since(t0).Round(time.Millisecond))
	fwds[2].Cut()
	ctx, cancel := context.WithTimeout(context.Background(), partitionWait)
	_, err = senders[2].Send(ctx, room, "lost")
	cancel()
	if client.ErrorCode(err) != protocol.CodeUnavailable {
		t.Fatalf("a send on node 3 cut off PostgreSQL: %v, want the error %s", err, protocol.CodeUnavailable)
	}
	waitUntil(t, partitionWait, poll, "node 3's /readyz answers 503", func() bool { return readyz(t, nodes[2]) == http.StatusServiceUnavailable })
	sendEach([]int{0, 1}, 5, "isolated")
	for i, r := range readers[:2] {
		r.expect(t, fmt.Sprintf("watcher on node %d, node 3 isolated", i+1), log)
	}

	// Healed: node 3 catches up, presence converges, and everyone ends with
	// one sequence.
	t.Logf("%v healing", time.Since(t0).Round(time.Millisecond))
	fwds[2].Heal()
	l.heal(2)
	for i, w := range watchers {
		waitWho(t, w, room, everyone, fmt.Sprintf("watcher on node %d after healing", i+1))
	}
	sendEach([]int{0, 1, 2}, 3, "healed")
	for i, r := range readers {
		r.expect(t, fmt.Sprintf("watcher on node %d after healing", i+1), log)
		if want := log.count(); len(r.seqs) != want || r.seqs[0] != 1 || r.seqs[len(r.seqs)-1] != uint64(want) {
			t.Fatalf("watcher on node %d has seqs %v, want 1..%d", i+1, r.seqs, want)
		}
	}
	for i, r := range readers[1:] {
		if !slices.Equal(r.texts, readers[0].texts) {
			t.Fatalf("watcher on node %d saw %q, watcher on node 1 %q", i+2, r.texts, readers[0].texts)
		}
	}
}

// startLabChatd runs chatd (bin) with args in node i's namespace (ip netns
// exec, which then runs chatd itself), and waits until it is ready.
func startLabChatd(t *testing.T, l *lab, i int, bin string, args ...string) *node {
	t.Helper()
	p := start(t, fmt.Sprintf("chatd-p%d", i+1), "ip", append([]string{"netns", "exec", l.nodes[i].ns, bin}, args...)...)
	n := &node{proc: p, addr: net.JoinHostPort(l.nodes[i].addr.String(), "8082")}
	n.waitLog(t, regexp.MustCompile(`chatd listening`))
	waitReady(t, "http://"+n.addr+"/readyz")
	return n
}

// labDial connects name to url in room; a sender drops its events.
func labDial(t *testing.T, url, name, room string, discard bool) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), partitionWait)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{Name: name, Rooms: []string{room}, DiscardEvents: discard})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", url, name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitWho polls c's who of room until it lists want.
func waitWho(t *testing.T, c *client.Client, room string, want []string, what string) {
	t.Helper()
	var got []string
	var err error
	deadline := time.Now().Add(partitionWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), partitionWait)
		got, err = c.Who(ctx, room)
		cancel()
		if err == nil && slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: who lists %v (%v), want %v", what, got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyz returns the status of n's /readyz.
func readyz(t *testing.T, n *node) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr+"/readyz", nil)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sendLog is every acknowledged send: the text of each seq.
type sendLog struct {
	mu   sync.Mutex
	text map[uint64]string
}

func newSendLog() *sendLog { return &sendLog{text: make(map[uint64]string)} }

// send sends text and records its seq, failing the test if the send fails
// or its seq was given twice.
func (s *sendLog) send(t *testing.T, c *client.Client, room, text string) {
	ctx, cancel := context.WithTimeout(context.Background(), partitionWait)
	defer cancel()
	ack, err := c.Send(ctx, room, text)
	if err != nil {
		t.Errorf("send %q: %v", text, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.text[ack.Seq]; ok {
		t.Errorf("seq %d acknowledged for %q and %q", ack.Seq, old, text)
	}
	s.text[ack.Seq] = text
}

func (s *sendLog) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.text)
}

// reader is what one watcher has received of a room.
type reader struct {
	c     *client.Client
	room  string
	seqs  []uint64
	texts []string
}

// expect reads r's messages until it has every acknowledged one, failing
// the test on a message out of order, repeated, or not as acknowledged.
func (r *reader) expect(t *testing.T, who string, s *sendLog) {
	t.Helper()
	if t.Failed() {
		t.FailNow() // a send failed: the count would never be reached
	}
	want := s.count()
	timeout := time.After(partitionWait)
	for len(r.seqs) < want {
		select {
		case ev, ok := <-r.c.Events():
			if !ok {
				t.Fatalf("%s: events ended: %v", who, r.c.Err())
			}
			m, ok := ev.(*client.Message)
			if !ok || m.Room != r.room {
				continue
			}
			if next := uint64(len(r.seqs) + 1); m.Seq != next {
				t.Fatalf("%s: seq %d %q after %d messages, want seq %d: a gap, a repeat or a reorder", who, m.Seq, m.Text, len(r.seqs), next)
			}
			s.mu.Lock()
			text := s.text[m.Seq]
			s.mu.Unlock()
			if m.Text != text {
				t.Fatalf("%s: seq %d is %q, acknowledged as %q", who, m.Seq, m.Text, text)
			}
			r.seqs = append(r.seqs, m.Seq)
			r.texts = append(r.texts, m.Text)
		case <-timeout:
			t.Fatalf("%s: %d of %d messages within %v", who, len(r.seqs), want, partitionWait)
		}
	}
}
