package client_test

import (
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/server"
)

func TestReactAndUnreact(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"r"}})
	bob := servertest.Dial(t, ts.URL(), client.Options{Name: "bob", Rooms: []string{"r"}})
	ctx := servertest.Context(t)
	sent, err := alice.Send(ctx, "r", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, bob); m.Seq != sent.Seq {
		t.Fatalf("bob got %+v", m)
	}
	if _, err := alice.React(ctx, "r", sent.Seq, "<b>"); client.ErrorCode(err) != protocol.CodeBadRequest {
		t.Fatalf("a reaction of markup: %v", err)
	}
	reacted, err := alice.React(ctx, "r", sent.Seq, "👍")
	if err != nil {
		t.Fatal(err)
	}
	if e := servertest.Next[*client.React](t, bob); e.Seq != reacted.Seq || e.Target != sent.Seq || e.Emoji != "👍" || e.From != "alice" {
		t.Fatalf("bob got react %+v", e)
	}
	if _, err := bob.React(ctx, "r", sent.Seq, "👍"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.React(ctx, "r", sent.Seq, ":tada:"); err != nil {
		t.Fatal(err)
	}
	unreacted, err := bob.Unreact(ctx, "r", sent.Seq, ":tada:")
	if err != nil {
		t.Fatal(err)
	}
	if e := servertest.Next[*client.Unreact](t, alice); e.Seq != unreacted.Seq || e.Emoji != ":tada:" || e.From != "bob" {
		t.Fatalf("alice got unreact %+v", e)
	}
	msgs, _, err := bob.History(ctx, "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 5 || len(msgs[0].Reactions) != 1 || msgs[0].Reactions[0].Emoji != "👍" || msgs[0].Reactions[0].Count != 2 {
		t.Fatalf("history %+v", msgs)
	}
}
