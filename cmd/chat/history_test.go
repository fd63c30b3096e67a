package main

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestHistoryCommandGathersPagesTheServerCutShort(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	st := servertest.SQLite(t)
	// Replies of at most 1 KiB hold three of these messages.
	ts := servertest.Start(t, server.Config{Store: st, ReplyBytes: 1 << 10})
	bob := peer(t, ts, "bob", "ops")
	for i := 1; i <= 8; i++ {
		if _, err := bob.Send(servertest.Context(t), "ops", fmt.Sprintf("m%d %s", i, strings.Repeat("x", 250))); err != nil {
			t.Fatal(err)
		}
	}
	r := startRun(t, "-url", ts.URL(), "-name", "alice", "-room", "ops")
	waitOutput(t, r.out, "joined #ops")
	waitOutput(t, r.out, "bob: m8")
	before := len(r.out.String())
	r.write(t, "/history 6\n/help\n")
	waitOutput(t, r.out, "Commands:")
	out := r.out.String()[before:]
	var got []string
	for line := range strings.SplitSeq(out, "\n") {
		if _, text, ok := strings.Cut(line, "[ops] bob: "); ok {
			got = append(got, strings.Fields(text)[0])
		}
	}
	if want := "m3 m4 m5 m6 m7 m8"; strings.Join(got, " ") != want {
		t.Fatalf("/history 6 printed %v, want %s; output:\n%s", got, want, out)
	}
	r.write(t, "/quit\n")
	r.wait(t)
}
