package natsbus_test

import (
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
)

// TestReactionsCrossNodes: reactions given on two nodes reach a member on
// the other as the same events of the room's sequence, and a member on a
// third node reads the message with its reactions counted.
func TestReactionsCrossNodes(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room = "reactions"
	alice := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	bob := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "bob", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	ctx := servertest.Context(t)
	one, err := alice.Send(ctx, room, "ship it?")
	if err != nil {
		t.Fatal(err)
	}
	mine, err := alice.React(ctx, room, one.Seq, "👍")
	if err != nil {
		t.Fatal(err)
	}
	if e := servertest.Next[*client.React](t, bob); e.Seq != mine.Seq || e.Target != one.Seq || e.Emoji != "👍" || e.From != "alice" {
		t.Fatalf("bob got react %s", e.Raw)
	}
	if _, err := bob.React(ctx, room, one.Seq, "👍"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.React(ctx, room, one.Seq, ":tada:"); err != nil {
		t.Fatal(err)
	}
	back, err := bob.Unreact(ctx, room, one.Seq, ":tada:")
	if err != nil {
		t.Fatal(err)
	}
	if e := servertest.Next[*client.Unreact](t, alice); e.Seq != back.Seq || e.Emoji != ":tada:" || e.From != "bob" {
		t.Fatalf("alice got unreact %s", e.Raw)
	}
	carol := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "carol"})
	msgs, _, err := carol.History(ctx, room, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 5 || len(msgs[0].Reactions) != 1 || msgs[0].Reactions[0].Emoji != "👍" || msgs[0].Reactions[0].Count != 2 {
		t.Fatalf("history on a third node: %+v", msgs)
	}
}
