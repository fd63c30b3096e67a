package main

import (
	"io"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestSearchCommand(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	bob := peer(t, ts, "bob", "ops")
	for _, text := range []string{"deploy on friday?", "no", "Deploy it monday", "ok"} {
		if _, err := bob.Send(servertest.Context(t), "ops", text); err != nil {
			t.Fatal(err)
		}
	}
	r := startRun(t, "-url", ts.URL(), "-name", "alice", "-room", "ops")
	waitOutput(t, r.out, "now talking in #ops")
	r.write(t, "/search deploy\n")
	waitOutput(t, r.out, "[ops] bob: *Deploy* it monday")
	waitOutput(t, r.out, "[ops] bob: *deploy* on friday?")
	r.write(t, "/search from:carol deploy\n/search room:ops fri*\n")
	waitOutput(t, r.out, "nothing found")
	waitOutput(t, r.out, "[ops] bob: deploy on *friday*?")
	r.write(t, "/search best after:2000-01-01 before:2999-01-01 mon*\n")
	waitOutput(t, r.out, "[ops] bob: Deploy it *monday*")
	r.write(t, "/around ops 3\n")
	waitOutput(t, r.out, "  #2 ")
	waitOutput(t, r.out, "> #3 ")
	waitOutput(t, r.out, "  #4 ")
}
