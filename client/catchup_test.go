package client_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestReconnectPagesPastTheReplayLimit keeps alice away while 250
// messages are sent, more than two replays hold (the server's history
// limit is 100 here, 1,000 by default): once back, she pages on with
// history after the replay, and receives every message once and in order,
// with those sent while she catches up.
func TestReconnectPagesPastTheReplayLimit(t *testing.T) {
	st := servertest.SQLite(t)
	cfg := server.Config{Store: st, SendRate: -1, RequestRate: -1, HistoryLimit: 100}
	ts := servertest.Start(t, cfg)
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"r"}, Reconnect: true,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	ts.Stop(t)
	servertest.Next[*client.Disconnected](t, alice)

	// While alice is away, bob sends on another server of the same store.
	const away, senders = 250, 10
	elsewhere := servertest.Start(t, cfg)
	bob := servertest.Dial(t, elsewhere.URL(), client.Options{Name: "bob", Rooms: []string{"r"}})
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := s; i < away; i += senders {
				if _, err := bob.Send(servertest.Context(t), "r", fmt.Sprint(i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	bob.Close()
	elsewhere.Stop(t)

	// alice's server is back; bob sends more while she catches up.
	back := servertest.StartAt(t, cfg, ts.Addr)
	bob = servertest.Dial(t, back.URL(), client.Options{Name: "bob", Rooms: []string{"r"}})
	const live = 20
	wg.Go(func() {
		for i := range live {
			if _, err := bob.Send(servertest.Context(t), "r", fmt.Sprint("live ", i)); err != nil {
				t.Error(err)
				return
			}
		}
	})

	var seq uint64
	deadline := time.After(4 * servertest.Wait)
	for seq < away+live {
		select {
		case ev, ok := <-alice.Events():
			if !ok {
				t.Fatalf("alice ended: %v", alice.Err())
			}
			if m, ok := ev.(*client.Message); ok {
				if m.Seq != seq+1 {
					t.Fatalf("alice got seq %d (%q) after %d", m.Seq, m.Text, seq)
				}
				seq = m.Seq
			}
		case <-deadline:
			t.Fatalf("alice has the messages up to seq %d of %d", seq, away+live)
		}
	}
	wg.Wait()
	// Nothing came twice: bob's next message is alice's next event.
	if _, err := bob.Send(servertest.Context(t), "r", "end"); err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, alice); m.Seq != seq+1 || m.Text != "end" {
		t.Fatalf("alice got seq %d (%q) after %d, want %q", m.Seq, m.Text, seq, "end")
	}
}
