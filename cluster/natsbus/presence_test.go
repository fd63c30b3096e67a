package natsbus_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
)

// waitWho waits until who on c lists want in room.
func waitWho(t *testing.T, c *client.Client, room string, want ...string) {
	t.Helper()
	var got []string
	servertest.WaitFor(t, "who to list "+joinNames(want), func() bool {
		var err error
		got, err = c.Who(servertest.Context(t), room)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Equal(got, want)
	})
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// TestPresenceSpansNodes has users join one room through three nodes: each
// node's members see everyone, in who and in presence diffs, a user on two
// nodes counts once, and a node that stops takes its users with it.
func TestPresenceSpansNodes(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room = "lounge"
	alice := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	bob := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "bob", Rooms: []string{room}})
	for {
		d := servertest.Next[*client.PresenceDiff](t, alice)
		if slices.Contains(d.Joins, "bob") {
			if d.Users != 2 {
				t.Fatalf("diff %+v: users %d, want 2", d.PresenceDiff, d.Users)
			}
			break
		}
	}
	waitWho(t, alice, room, "alice", "bob")
	waitWho(t, bob, room, "alice", "bob")

	// bob on a second node (with his session token: the name is his on
	// every node) is still one user.
	servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "bob", Session: bob.Session(), Rooms: []string{room}})
	servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "carol", Rooms: []string{room}})
	waitWho(t, alice, room, "alice", "bob", "carol")

	// bob leaves the second node but is still on the third. Node 2's
	// notices arrive in order, so once alice sees dave, she has had bob's
	// leave from node 2 too.
	bob.Close()
	servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "dave", Rooms: []string{room}})
	waitWho(t, alice, room, "alice", "bob", "carol", "dave")

	// The third node stops: its users are gone from the others at once.
	nodes[2].bus.Close()
	waitWho(t, alice, room, "alice", "dave")
}

// TestSilentNodesUsersAreDropped kills a node's connection with no
// goodbye: the others drop its users once they have not heard from it for
// NodeTimeout.
func TestSilentNodesUsersAreDropped(t *testing.T) {
	dsn := schemaDSN(t)
	const timeout = 600 * time.Millisecond
	first := startNode(t, dsn, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "n1", CatchUpInterval: noCatchUp, NodeTimeout: timeout})
	second := startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "n2", CatchUpInterval: noCatchUp, NodeTimeout: timeout})
	const room = "lounge"
	alice := servertest.Dial(t, first.srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	if err := flushAll([]*node{first, second}); err != nil {
		t.Fatal(err)
	}
	servertest.Dial(t, second.srv.URL(), client.Options{Name: "bob", Rooms: []string{room}})
	waitWho(t, alice, room, "alice", "bob")
	natsbus.Vanish(second.bus)
	waitWho(t, alice, room, "alice")
}

// TestTypingSpansNodes shows a typing indicator sent through one node to
// the room's members on another.
func TestTypingSpansNodes(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	const room = "lounge"
	typist := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "typist", Rooms: []string{room}})
	reader := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "reader", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	if err := typist.Typing(servertest.Context(t), room); err != nil {
		t.Fatal(err)
	}
	ev := servertest.Next[*client.Typing](t, reader)
	if ev.From != "typist" || ev.Room != room {
		t.Fatalf("typing event %+v, want typist in %s", ev, room)
	}
}

// TestPresenceHealsWhenANodeIsHeardFromAgain has the others take a node
// for dead, then hear from it again: its users are present again.
func TestPresenceHealsWhenANodeIsHeardFromAgain(t *testing.T) {
	dsn := schemaDSN(t)
	const timeout = 600 * time.Millisecond
	first := startNode(t, dsn, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "n1", CatchUpInterval: noCatchUp, NodeTimeout: timeout})
	second := startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "n2", CatchUpInterval: noCatchUp, NodeTimeout: timeout})
	const room = "lounge"
	alice := servertest.Dial(t, first.srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	if err := flushAll([]*node{first, second}); err != nil {
		t.Fatal(err)
	}
	servertest.Dial(t, second.srv.URL(), client.Options{Name: "bob", Rooms: []string{room}})
	waitWho(t, alice, room, "alice", "bob")
	natsbus.Mute(second.bus, true)
	waitWho(t, alice, room, "alice")
	natsbus.Mute(second.bus, false)
	waitWho(t, alice, room, "alice", "bob")
}
