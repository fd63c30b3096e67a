package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestBroadcastReachesEveryOtherClientButNotTheSender(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	cs := dialMany(t, ts, 5, "")
	for i, c := range cs {
		c.send(fmt.Sprintf("hello from %d", i))
		for j, other := range cs {
			if j == i {
				continue
			}
			if got, want := other.read(), fmt.Sprintf("hello from %d", i); got != want {
				t.Fatalf("client %d got %q, want %q", j, got, want)
			}
		}
	}
	for i, c := range cs {
		c.expectSilence(50 * time.Millisecond) // nobody got its own message back
		_ = i
	}
}

func TestMessagesFromOneSenderArriveInOrder(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: -1})
	const senders, perSender = 3, 300
	receivers := dialMany(t, ts, 2, "room=order")
	sending := dialMany(t, ts, senders, "room=order")

	var wg sync.WaitGroup
	for s, c := range sending {
		wg.Go(func() {
			for i := range perSender {
				c.send(fmt.Sprintf("%d:%d", s, i))
			}
		})
	}
	for _, r := range receivers {
		next := make([]int, senders)
		for range senders * perSender {
			var s, i int
			if _, err := fmt.Sscanf(r.read(), "%d:%d", &s, &i); err != nil {
				t.Fatal(err)
			}
			if i != next[s] {
				t.Fatalf("from sender %d got message %d, want %d", s, i, next[s])
			}
			next[s]++
		}
	}
	wg.Wait()
}

func TestRoomsAreIsolated(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	goA := dialMany(t, ts, 2, "room=go")
	rust := dialMany(t, ts, 2, "room=rust")
	lobby := dial(t, ts, "")

	goA[0].send("gophers only")
	if got := goA[1].read(); got != "gophers only" {
		t.Fatalf("got %q", got)
	}
	rust[0].send("crabs only")
	if got := rust[1].read(); got != "crabs only" {
		t.Fatalf("got %q", got)
	}
	rust[1].expectSilence(50 * time.Millisecond)
	goA[1].expectSilence(50 * time.Millisecond)
	lobby.expectSilence(50 * time.Millisecond)
}

func TestRoomNamesAreCaseInsensitive(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	a := dial(t, ts, "room=Go")
	b := dial(t, ts, "room=go")
	servertest.WaitFor(t, "both registered", func() bool { return ts.Stats().Conns == 2 })
	a.send("same room")
	if got := b.read(); got != "same room" {
		t.Fatalf("got %q", got)
	}
}

func TestTextArrivesUnchanged(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	cs := dialMany(t, ts, 2, "")
	for _, text := range []string{
		"",
		"plain",
		"ünïcødé ✓ 🚀",
		"<script>alert(1)</script>",
		"'; DROP TABLE messages; --",
		"multi\nline\r\ntext",
		strings.Repeat("x", 125),
		strings.Repeat("y", 126),
		strings.Repeat("z", 65535),
		strings.Repeat("w", 64<<10),
	} {
		cs[0].send(text)
		if got := cs[1].read(); got != text {
			t.Fatalf("sent %d bytes, got %d bytes back", len(text), len(got))
		}
	}
}

func TestDisconnectFreesMembershipAndRooms(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	cs := dialMany(t, ts, 3, "room=temp")
	dialMany(t, ts, 1, "room=other")
	if got := ts.Stats().Rooms; got != 2 {
		t.Fatalf("rooms = %d, want 2", got)
	}
	for _, c := range cs {
		c.ws.CloseNow()
	}
	servertest.WaitFor(t, "room freed", func() bool {
		st := ts.Stats()
		return st.Conns == 1 && st.Rooms == 1
	})
}

func TestTheFramesOfABurstShareWrites(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: -1, SendByteRate: -1})
	const recipients, burst = 20, 200
	receivers := dialMany(t, ts, recipients, "room=burst")
	sender := dial(t, ts, "room=burst")
	servertest.WaitFor(t, "the sender registered", func() bool { return ts.Stats().Conns == recipients+1 })
	before := ts.Stats()

	for i := range burst {
		sender.send(fmt.Sprintf("m%d", i))
	}
	// Every message still arrives as a frame of its own, in order.
	for _, r := range receivers {
		for i := range burst {
			if got, want := r.read(), fmt.Sprintf("m%d", i); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	}
	after := ts.Stats()
	deliveries, writes := after.Deliveries-before.Deliveries, after.Writes-before.Writes
	if deliveries != recipients*burst {
		t.Fatalf("%d deliveries, want %d", deliveries, recipients*burst)
	}
	t.Logf("%d deliveries in %d writes", deliveries, writes)
	if writes == 0 || writes >= deliveries {
		t.Errorf("%d deliveries took %d writes; want more than one delivery per write", deliveries, writes)
	}
}
