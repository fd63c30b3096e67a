package natsbus_test

import (
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
)

// TestThreadsCrossNodes: replies and thread replies sent on two nodes
// reach a member on the other with what they answer, and a member on a
// third node reads the root with its thread counted and pages the thread.
func TestThreadsCrossNodes(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room = "threads"
	alice := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	bob := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "bob", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	ctx := servertest.Context(t)
	root, err := alice.Send(ctx, room, "ship it?")
	if err != nil {
		t.Fatal(err)
	}
	in, err := alice.ThreadReply(ctx, room, root.Seq, 0, "after the tests", true)
	if err != nil {
		t.Fatal(err)
	}
	servertest.Next[*client.Message](t, bob)
	if m := servertest.Next[*client.Message](t, bob); m.Seq != in.Seq || m.Thread != root.Seq || !m.AlsoRoom || m.From != "alice" {
		t.Fatalf("bob got thread reply %s", m.Raw)
	}
	back, err := bob.ThreadReply(ctx, room, root.Seq, in.Seq, "they pass", false)
	if err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, alice); m.Seq != back.Seq || m.Thread != root.Seq || m.ReplyTo != in.Seq || m.From != "bob" {
		t.Fatalf("alice got thread reply %s", m.Raw)
	}
	quote, err := bob.Reply(ctx, room, root.Seq, "shipped")
	if err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, alice); m.Seq != quote.Seq || m.ReplyTo != root.Seq || m.Thread != 0 {
		t.Fatalf("alice got reply %s", m.Raw)
	}
	carol := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "carol"})
	msgs, _, err := carol.History(ctx, room, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 || msgs[0].Replies != 2 || msgs[0].LastReplySeq != back.Seq {
		t.Fatalf("history on a third node: %+v", msgs)
	}
	thread, more, err := carol.Thread(ctx, room, root.Seq, 0, 10)
	if err != nil || more || len(thread) != 2 || thread[0].Seq != in.Seq || thread[1].Seq != back.Seq {
		t.Fatalf("the thread on a third node: %+v, more %v, %v", thread, more, err)
	}
}
