package natsbus_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/postgres"
)

// killable is a listener whose connections can all be dropped at once,
// with a reset and no close frame, as when a node's process is killed;
// after that it resets every connection it accepts, until the server's
// shutdown closes it.
type killable struct {
	net.Listener
	mu     sync.Mutex
	conns  []*net.TCPConn
	killed bool
}

func (l *killable) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := c.(*net.TCPConn)
		l.mu.Lock()
		killed := l.killed
		if !killed {
			l.conns = append(l.conns, tc)
		}
		l.mu.Unlock()
		if !killed {
			return c, nil
		}
		tc.SetLinger(0)
		tc.Close()
	}
}

func (l *killable) kill() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.killed = true
	for _, c := range l.conns {
		c.SetLinger(0)
		c.Close()
	}
}

// startKillable is startNode on a listener that kill drops.
func startKillable(t *testing.T, dsn string, cfg natsbus.Config) (*node, *killable) {
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	kl := &killable{Listener: ln}
	srv := servertest.StartOn(t, server.Config{Store: st, Accounts: st, Relay: bus, StoreShards: 2, RequestRate: -1}, kl)
	bus.Attach(srv.Server)
	return &node{srv: srv, bus: bus, st: st}, kl
}

// TestClientFailsOverToAnotherNode kills the node a client sends and
// receives through: the client moves to the next node it was given and
// recovers with since, so that it ends with every other sender's message
// once, in order, and nothing either sender had acknowledged is lost.
func TestClientFailsOverToAnotherNode(t *testing.T) {
	dsn := schemaDSN(t)
	first := startNode(t, dsn, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "n1", CatchUpInterval: 200 * time.Millisecond})
	doomed, kl := startKillable(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "n2", CatchUpInterval: 200 * time.Millisecond})
	third := startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "n3", CatchUpInterval: 200 * time.Millisecond})
	const room = "failover"
	mover := servertest.Dial(t, doomed.srv.URL(), client.Options{Name: "mover", Rooms: []string{room}, Reconnect: true,
		URLs: []string{third.srv.URL(), first.srv.URL()}, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	other := servertest.Dial(t, first.srv.URL(), client.Options{Name: "other", Rooms: []string{room}})
	if err := flushAll([]*node{first, doomed, third}); err != nil {
		t.Fatal(err)
	}

	const each = 60
	acked := make(chan uint64, 2*each)
	var wg sync.WaitGroup
	for _, c := range []*client.Client{mover, other} {
		wg.Go(func() {
			for i := range each {
				ack, err := c.SendID(servertest.Context(t), room, fmt.Sprintf("%s %d", c.Name(), i), client.NewMsgID())
				if err != nil {
					t.Errorf("%s's send %d: %v", c.Name(), i, err)
					return
				}
				acked <- ack.Seq
				if c == other && i == each/3 {
					kl.kill()
					natsbus.Vanish(doomed.bus)
				}
			}
		})
	}

	// mover receives other's messages: each once, in order, across the
	// failover.
	var got []uint64
	reconnected := false
	deadline := time.After(3 * servertest.Wait)
	for len(got) < each {
		select {
		case ev, ok := <-mover.Events():
			if !ok {
				t.Fatalf("mover ended: %v", mover.Err())
			}
			switch e := ev.(type) {
			case *client.Message:
				if e.From != "other" {
					t.Fatalf("mover got %q from %s: its own messages are not echoed", e.Text, e.From)
				}
				if want := fmt.Sprintf("other %d", len(got)); e.Text != want {
					t.Fatalf("mover got %q (seq %d) after %d messages, want %q", e.Text, e.Seq, len(got), want)
				}
				if len(got) > 0 && e.Seq <= got[len(got)-1] {
					t.Fatalf("seq %d after %d", e.Seq, got[len(got)-1])
				}
				got = append(got, e.Seq)
			case *client.Reconnected:
				reconnected = true
			}
		case <-deadline:
			t.Fatalf("mover has %d of other's %d messages", len(got), each)
		}
	}
	wg.Wait()
	close(acked)
	if !reconnected {
		t.Fatal("mover never reconnected: the node was not killed under it")
	}

	// Every acknowledged message is stored once.
	seqs := map[uint64]bool{}
	for s := range acked {
		if seqs[s] {
			t.Fatalf("seq %d acknowledged twice", s)
		}
		seqs[s] = true
	}
	if len(seqs) != 2*each {
		t.Fatalf("%d messages acknowledged, want %d", len(seqs), 2*each)
	}
	msgs, _, err := other.History(servertest.Context(t), room, 0, 2*each+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2*each {
		t.Fatalf("history holds %d messages, want %d", len(msgs), 2*each)
	}
	for _, m := range msgs {
		if !seqs[m.Seq] {
			t.Fatalf("stored seq %d was never acknowledged", m.Seq)
		}
	}
}
