package client_test

import (
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/server"
)

func TestRepliesAndThreads(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"r"}})
	bob := servertest.Dial(t, ts.URL(), client.Options{Name: "bob", Rooms: []string{"r"}})
	ctx := servertest.Context(t)
	root, err := alice.Send(ctx, "r", "lunch?")
	if err != nil {
		t.Fatal(err)
	}
	servertest.Next[*client.Message](t, bob)
	reply, err := bob.Reply(ctx, "r", root.Seq, "yes")
	if err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, alice); m.Seq != reply.Seq || m.ReplyTo != root.Seq || m.Thread != 0 {
		t.Fatalf("alice got reply %s", m.Raw)
	}
	in, err := bob.ThreadReply(ctx, "r", root.Seq, 0, "where?", false)
	if err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, alice); m.Seq != in.Seq || m.Thread != root.Seq || m.AlsoRoom {
		t.Fatalf("alice got thread reply %s", m.Raw)
	}
	both, err := alice.ThreadReply(ctx, "r", root.Seq, in.Seq, "the usual", true)
	if err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, bob); m.Seq != both.Seq || m.Thread != root.Seq || !m.AlsoRoom || m.ReplyTo != in.Seq {
		t.Fatalf("bob got thread reply %s", m.Raw)
	}
	if _, err := alice.ThreadReply(ctx, "r", in.Seq, 0, "deeper", false); client.ErrorCode(err) != protocol.CodeBadThread {
		t.Fatalf("a thread on a thread reply: %v", err)
	}
	if _, err := alice.Reply(ctx, "r", 99, "to nothing"); client.ErrorCode(err) != protocol.CodeNotFound {
		t.Fatalf("a reply to a missing message: %v", err)
	}

	msgs, _, err := bob.History(ctx, "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 || msgs[0].Replies != 2 || msgs[0].LastReplySeq != both.Seq || msgs[0].LastReplyTS != both.TS {
		t.Fatalf("history %+v", msgs)
	}
	page, more, err := bob.Thread(ctx, "r", root.Seq, 0, 1)
	if err != nil || len(page) != 1 || page[0].Seq != both.Seq || !more {
		t.Fatalf("the thread's newest reply: %+v, more %v, %v", page, more, err)
	}
	page, more, err = bob.Thread(ctx, "r", root.Seq, both.Seq, 10)
	if err != nil || len(page) != 1 || page[0].Text != "where?" || more {
		t.Fatalf("the thread's older replies: %+v, more %v, %v", page, more, err)
	}
}
