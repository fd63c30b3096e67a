package main

import (
	"io"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestEditAndDeleteCommands(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	bob := peer(t, ts, "bob", "ops")
	r := startRun(t, "-url", ts.URL(), "-name", "alice", "-room", "ops")
	waitOutput(t, r.out, "now talking in #ops")

	r.write(t, "helo\n")
	m := servertest.Next[*client.Message](t, bob)
	r.write(t, "/edit 1 hello\n")
	if e := servertest.Next[*client.Edit](t, bob); e.Target != m.Seq || e.Text != "hello" {
		t.Fatalf("bob got %s", e.Raw)
	}
	if _, err := bob.Edit(servertest.Context(t), "ops", m.Seq, "hello!"); client.ErrorCode(err) != "forbidden" {
		t.Fatalf("bob edits alice's message: %v", err)
	}
	ack, err := bob.Send(servertest.Context(t), "ops", "oops")
	if err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] bob: oops")
	if _, err := bob.Delete(servertest.Context(t), "ops", ack.Seq); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] bob deleted #3")
	r.write(t, "/delete 3\n/edit x\n/history\n")
	waitOutput(t, r.err, "delete #3: delete refused: not_found")
	waitOutput(t, r.err, "usage: /edit SEQ TEXT")
	waitOutput(t, r.out, "[ops] alice: hello (edited)")
	waitOutput(t, r.out, "[ops] bob: (deleted)")
	waitOutput(t, r.out, "[ops] alice edited #1: hello")
}
