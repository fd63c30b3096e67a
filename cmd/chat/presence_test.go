package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestInteractivePrintsWhoJoinsAndLeavesButNotItself(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{PresenceInterval: 20 * time.Millisecond})
	peer(t, ts, "bob", "ops")
	r := startRun(t, "-url", ts.URL(), "-name", "alice")
	r.write(t, "/join ops\n")
	waitOutput(t, r.out, "joined #ops (alice, bob)")
	carol := peer(t, ts, "carol", "ops")
	waitOutput(t, r.out, "[ops] * carol joined")
	carol.Close()
	waitOutput(t, r.out, "[ops] * carol left")
	r.write(t, "/quit\n")
	r.wait(t)
	if out := r.out.String(); strings.Contains(out, "alice joined") {
		t.Errorf("alice was told of her own join:\n%s", out)
	}
}
