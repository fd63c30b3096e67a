package systemtest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/protocol"
)

// TestSIGKILLOfANodeUnderLoad runs three chatd processes behind the
// HAProxy configuration of docs/deploy.md, with clients through HAProxy
// and clients given the nodes' URLs, all sending at a steady rate, and
// kills one node with SIGKILL. Every acknowledged message is stored once,
// with no gap in the rooms' sequences; every client ends with the same
// sequence (less its own messages); the killed node's clients reconnect
// and recover with since; and the other nodes drop its users from presence
// within the documented 30 seconds.
func TestSIGKILLOfANodeUnderLoad(t *testing.T) {
	haproxy := haproxyBinary(t)
	dsn := schemaDSN(t)
	nodes := startCluster(t, buildChatd(t), dsn, "a", "b", "c")
	lb := startHAProxy(t, haproxy, nodes)
	doomed := nodes[1]
	rooms := []string{"kill-1", "kill-2"}

	// The ghost is on the doomed node and does not reconnect, so that its
	// name shows when the others drop the dead node's users.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ghost, err := client.Dial(ctx, doomed.url(), client.Options{Name: "ghost", Rooms: rooms, DiscardEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ghost.Close()

	// Six clients through HAProxy (leastconn spreads them two to a node)
	// and one per node given the node's URL, then the others'.
	var users, direct []*user
	for i := range 6 {
		users = append(users, startUser(t, fmt.Sprintf("lb%d", i), lb, nil, rooms))
	}
	for i, n := range nodes {
		var more []string
		for j := 1; j < len(nodes); j++ {
			more = append(more, nodes[(i+j)%len(nodes)].url())
		}
		u := startUser(t, "node-"+[]string{"a", "b", "c"}[i], n.url(), more, rooms)
		users, direct = append(users, u), append(direct, u)
	}
	watchers := []*user{direct[0], direct[2]} // on the nodes that live
	present := func(u *user, name string) bool {
		for _, room := range rooms {
			who, err := u.c.Who(ctx, room)
			if err != nil {
				t.Fatalf("who %s on %s: %v", room, u.name, err)
			}
			if !slices.Contains(who, name) {
				return false
			}
		}
		return true
	}
	waitUntil(t, 10*time.Second, whoEvery, "every node lists the ghost", func() bool {
		return present(watchers[0], "ghost") && present(watchers[1], "ghost")
	})

	stop := make(chan struct{})
	var stopOnce sync.Once
	var senders sync.WaitGroup
	sending, abort := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(func() { // before the clients close, should the test fail
		stopOnce.Do(func() { close(stop) })
		abort()
		senders.Wait()
	})
	for _, u := range users {
		senders.Go(func() { u.sendEvery(sending, t, 200*time.Millisecond, rooms, stop) })
	}
	waitUntil(t, 10*time.Second, poll, "every client has sends acknowledged", func() bool {
		for _, u := range users {
			if u.ackedCount() < 5 {
				return false
			}
		}
		return true
	})

	// Its clients may see their connections drop before kill returns.
	killed := time.Now()
	doomed.kill()
	var gone time.Duration
	waitUntil(t, 30*time.Second, whoEvery, "the other nodes drop the dead node's users from presence", func() bool {
		if present(watchers[0], "ghost") || present(watchers[1], "ghost") {
			return false
		}
		gone = time.Since(killed)
		return true
	})
	t.Logf("the other nodes dropped the dead node's users from presence %v after the kill", gone.Round(100*time.Millisecond))

	var moved, movedLB int
	for _, u := range users {
		waitUntil(t, 10*time.Second, poll, u.name+" reconnects", func() bool {
			_, lost, back := u.reconnectedAfter(killed)
			return !lost || back
		})
		if d, lost, _ := u.reconnectedAfter(killed); lost {
			moved++
			if !slices.Contains(direct, u) {
				movedLB++
			}
			t.Logf("%s reconnected %v after the kill", u.name, d.Round(time.Millisecond))
		}
	}
	if movedLB == 0 || moved == movedLB {
		t.Fatalf("%d clients through HAProxy and %d given URLs were on the killed node; the test needs both", movedLB, moved-movedLB)
	}

	// Load goes on a little on the nodes left, then stops; every send
	// begun has its ack.
	time.Sleep(time.Second)
	stopOnce.Do(func() { close(stop) })
	senders.Wait()
	if t.Failed() {
		return
	}

	for _, room := range rooms {
		stored := history(t, ctx, watchers[0].c, room)
		// No gap and no duplicate: the room's sequence is 1..n, each
		// message stored once, and it is exactly what was acknowledged.
		acked := map[string]uint64{}
		for _, u := range users {
			u.mu.Lock()
			for text, seq := range u.acked[room] {
				acked[text] = seq
			}
			u.mu.Unlock()
		}
		texts := map[string]bool{}
		for i, m := range stored {
			if m.Seq != uint64(i+1) {
				t.Fatalf("%s: stored message %d has seq %d: a gap", room, i+1, m.Seq)
			}
			if texts[m.Text] {
				t.Fatalf("%s: %q stored twice", room, m.Text)
			}
			texts[m.Text] = true
			if seq, ok := acked[m.Text]; !ok || seq != m.Seq {
				t.Fatalf("%s: stored %q at seq %d, acknowledged at %d (%v)", room, m.Text, m.Seq, seq, ok)
			}
		}
		if len(stored) != len(acked) {
			t.Fatalf("%s: %d messages acknowledged, %d stored", room, len(acked), len(stored))
		}

		// Every client has the room's sequence, but for its own messages,
		// each once and in order.
		for _, u := range users {
			var want []uint64
			for _, m := range stored {
				if m.From != u.name {
					want = append(want, m.Seq)
				}
			}
			waitUntil(t, 10*time.Second, poll, u.name+" has every message of "+room, func() bool {
				return len(u.seqs(room)) >= len(want)
			})
			if got := u.seqs(room); !slices.Equal(got, want) {
				t.Fatalf("%s received %d messages of %s, want %d: first difference at %d", u.name, len(got), room, len(want), firstDiff(got, want))
			}
		}
		t.Logf("%s: %d messages, every client has each once and in order", room, len(stored))
	}
}

// history returns every message of room, oldest first, paging back.
func history(t *testing.T, ctx context.Context, c *client.Client, room string) []protocol.Message {
	t.Helper()
	var all []protocol.Message
	var before uint64
	for {
		msgs, more, err := c.History(ctx, room, before, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(msgs, all...)
		if !more || len(msgs) == 0 {
			break
		}
		before = msgs[0].Seq
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	return all
}

func firstDiff(a, b []uint64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// How often waitUntil polls: who requests are limited to 5 a second on a
// connection, and each poll of presence makes two.
const (
	poll     = 50 * time.Millisecond
	whoEvery = 500 * time.Millisecond
)

// waitUntil polls cond every interval until it holds, failing the test if
// it does not within d.
func waitUntil(t *testing.T, d, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", d, what)
		}
		time.Sleep(interval)
	}
}
