package main

import (
	"io"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestReactCommandToggles(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	bob := peer(t, ts, "bob", "ops")
	r := startRun(t, "-url", ts.URL(), "-name", "alice", "-room", "ops")
	waitOutput(t, r.out, "now talking in #ops")

	ack, err := bob.Send(servertest.Context(t), "ops", "ship it?")
	if err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] bob: ship it?")
	r.write(t, "/react 1 👍\n")
	if e := servertest.Next[*client.React](t, bob); e.Target != ack.Seq || e.Emoji != "👍" || e.From != "alice" {
		t.Fatalf("bob got %s", e.Raw)
	}
	if _, err := bob.React(servertest.Context(t), "ops", ack.Seq, ":tada:"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] bob reacted :tada: to #1")
	r.write(t, "/react 1 👍\n") // given already: taken back
	if e := servertest.Next[*client.Unreact](t, bob); e.Target != ack.Seq || e.Emoji != "👍" {
		t.Fatalf("bob got %s", e.Raw)
	}
	r.write(t, "/react 1 <b>\n/react x\n/history\n")
	waitOutput(t, r.err, "react #1: react refused: bad_request")
	waitOutput(t, r.err, "usage: /react SEQ EMOJI")
	waitOutput(t, r.out, "[ops] bob: ship it? [:tada: 1]")
}
