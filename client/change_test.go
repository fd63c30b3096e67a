package client_test

import (
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/server"
)

func TestEditAndDelete(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"r"}})
	bob := servertest.Dial(t, ts.URL(), client.Options{Name: "bob", Rooms: []string{"r"}})
	ctx := servertest.Context(t)
	sent, err := alice.Send(ctx, "r", "helo")
	if err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, bob); m.Seq != sent.Seq {
		t.Fatalf("bob got %+v", m)
	}
	if _, err := bob.Edit(ctx, "r", sent.Seq, "mine"); client.ErrorCode(err) != protocol.CodeForbidden {
		t.Fatalf("bob edits alice's message: %v", err)
	}
	edited, err := alice.Edit(ctx, "r", sent.Seq, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if e := servertest.Next[*client.Edit](t, bob); e.Seq != edited.Seq || e.Target != sent.Seq || e.Text != "hello" || e.From != "alice" {
		t.Fatalf("bob got edit %+v", e)
	}
	deleted, err := alice.Delete(ctx, "r", sent.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if d := servertest.Next[*client.Delete](t, bob); d.Seq != deleted.Seq || d.Target != sent.Seq {
		t.Fatalf("bob got delete %+v", d)
	}
	if _, err := alice.Delete(ctx, "r", sent.Seq); client.ErrorCode(err) != protocol.CodeNotFound {
		t.Fatalf("a second delete: %v", err)
	}
	msgs, _, err := bob.History(ctx, "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || !msgs[0].Deleted || msgs[0].Text != "" || msgs[1].Type != protocol.TypeEdit || msgs[2].Type != protocol.TypeDelete {
		t.Fatalf("history %+v", msgs)
	}
}
