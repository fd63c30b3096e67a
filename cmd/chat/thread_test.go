package main

import (
	"io"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestReplyAndThreadCommands(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	bob := peer(t, ts, "bob", "ops")
	r := startRun(t, "-url", ts.URL(), "-name", "alice", "-room", "ops")
	waitOutput(t, r.out, "now talking in #ops")
	ctx := servertest.Context(t)

	root, err := bob.Send(ctx, "ops", "lunch?")
	if err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] bob: lunch?")
	r.write(t, "/reply 1 yes\n")
	if m := servertest.Next[*client.Message](t, bob); m.ReplyTo != root.Seq || m.Thread != 0 || m.Text != "yes" {
		t.Fatalf("bob got %s", m.Raw)
	}
	in, err := bob.ThreadReply(ctx, "ops", root.Seq, 0, "where?", false)
	if err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] bob in thread #1: where?")
	r.write(t, "/thread 1\n")
	waitOutput(t, r.out, "[ops] bob: lunch? (1 reply, last ")
	waitOutput(t, r.out, "  #3 ")
	waitOutput(t, r.out, "in thread #1: /reply")
	r.write(t, "/reply 3 the usual\n")
	if m := servertest.Next[*client.Message](t, bob); m.Thread != root.Seq || m.ReplyTo != in.Seq || m.Text != "the usual" {
		t.Fatalf("bob got %s", m.Raw)
	}
	r.write(t, "/thread 3\n/reply x\n/thread\n/reply 1 back in the room\n")
	waitOutput(t, r.err, "thread #3: it is a reply in thread #1; /thread 1")
	waitOutput(t, r.err, "usage: /reply SEQ TEXT")
	if m := servertest.Next[*client.Message](t, bob); m.Thread != 0 || m.ReplyTo != root.Seq || m.Text != "back in the room" {
		t.Fatalf("bob got %s", m.Raw)
	}
	r.write(t, "/history\n")
	waitOutput(t, r.out, "[ops] bob: lunch? (2 replies, last ")
	waitOutput(t, r.out, "[ops] alice in thread #1 re #3: the usual")
}

func TestJSONPrintsReplyFields(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	bob := peer(t, ts, "bob", "ops")
	r := startRun(t, "-url", ts.URL(), "-room", "ops", "-name", "alice", "-json")
	waitOutput(t, r.err, "now talking in #ops")
	ctx := servertest.Context(t)
	root, err := bob.Send(ctx, "ops", "lunch?")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.ThreadReply(ctx, "ops", root.Seq, root.Seq, "where?", true); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, `"text":"where?","client_msg_id":`)
	waitOutput(t, r.out, `"reply_to":1,"thread":1,"also_room":true}`)
}
