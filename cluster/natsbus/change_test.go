package natsbus_test

import (
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
)

// TestEditsAndDeletesCrossNodes: an edit and a delete made on one node
// reach a member on another as the same events of the room's sequence,
// and a member joining on a third node later gets the room in its current
// state.
func TestEditsAndDeletesCrossNodes(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room = "changes"
	alice := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	bob := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "bob", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	ctx := servertest.Context(t)
	one, err := alice.Send(ctx, room, "helo")
	if err != nil {
		t.Fatal(err)
	}
	two, err := alice.Send(ctx, room, "a secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Edit(ctx, room, one.Seq, "mine"); client.ErrorCode(err) != "forbidden" {
		t.Fatalf("bob edits alice's message on another node: %v", err)
	}
	edit, err := alice.Edit(ctx, room, one.Seq, "hello")
	if err != nil {
		t.Fatal(err)
	}
	del, err := alice.Delete(ctx, room, two.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if e := servertest.Next[*client.Edit](t, bob); e.Seq != edit.Seq || e.Target != one.Seq || e.Text != "hello" || e.From != "alice" {
		t.Fatalf("bob got edit %s", e.Raw)
	}
	if d := servertest.Next[*client.Delete](t, bob); d.Seq != del.Seq || d.Target != two.Seq {
		t.Fatalf("bob got delete %s", d.Raw)
	}
	carol := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "carol"})
	msgs, _, err := carol.History(ctx, room, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 || msgs[0].Text != "hello" || msgs[0].Edited == 0 || !msgs[1].Deleted || msgs[1].Text != "" {
		t.Fatalf("history on a third node: %+v", msgs)
	}
}
