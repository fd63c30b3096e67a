package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// startStored serves a chatd that keeps history in a SQLite file, so that
// joins replay the room's messages.
func startStored(t *testing.T) (*servertest.Server, server.Config) {
	t.Helper()
	st := servertest.SQLite(t)
	cfg := server.Config{Store: st}
	return servertest.Start(t, cfg), cfg
}

func TestAScriptPrintsNothingButErrorsUnlessAskedForJSON(t *testing.T) {
	ts, _ := startStored(t)
	bob := peer(t, ts, "bob", "ops")
	for i := range 3 {
		if _, err := bob.Send(servertest.Context(t), "ops", fmt.Sprintf("old %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	r := startRun(t, "-url", ts.URL(), "-room", "ops", "-name", "bot")
	r.write(t, "deployed\n")
	if m := servertest.Next[*client.Message](t, bob); m.Text != "deployed" {
		t.Fatalf("bob got %s", m.Raw)
	}
	if _, err := bob.Send(servertest.Context(t), "ops", "live"); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, r.err)
	}
	if r.out.String() != "" || r.err.String() != "" {
		t.Fatalf("a quiet script printed:\n%s\nand on stderr:\n%s", r.out, r.err)
	}

	// With -json, the reply to each line and nothing else.
	r = startRun(t, "-url", ts.URL(), "-room", "ops", "-name", "bot", "-json")
	r.write(t, "one\ntwo\n")
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, r.err)
	}
	var seqs []float64
	for line := range strings.Lines(r.out.String()) {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		if ev["type"] != "ack" || ev["request"] != "send" {
			t.Fatalf("-json printed %v, not only acks; output:\n%s", ev, r.out)
		}
		seqs = append(seqs, ev["seq"].(float64))
	}
	if len(seqs) != 2 || seqs[1] != seqs[0]+1 {
		t.Fatalf("acks for seqs %v; output:\n%s", seqs, r.out)
	}
}

func TestInteractiveShowsEachMessageOnceAcrossNickAndReconnect(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts, cfg := startStored(t)
	bob := peer(t, ts, "bob", "ops")
	if _, err := bob.Send(servertest.Context(t), "ops", "before you came"); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, "-url", ts.URL(), "-name", "alice", "-room", "ops")
	waitOutput(t, r.out, "bob: before you came")
	// The user sees what they type as they type it: it is not printed
	// again, not even when a replay brings it back.
	r.write(t, "mine\n")
	if m := servertest.Next[*client.Message](t, bob); m.Text != "mine" {
		t.Fatalf("bob got %s", m.Raw)
	}

	r.write(t, "/nick carol\n")
	waitOutput(t, r.out, "you are now carol")
	if _, err := bob.Send(servertest.Context(t), "ops", "after the nick"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "bob: after the nick")

	// A restart: the client reconnects and rejoins, which replays the room.
	ts.Stop(t)
	ts2 := servertest.StartAt(t, cfg, ts.Addr)
	waitOutput(t, r.out, "reconnected as carol")
	bob2 := peer(t, ts2, "bob", "ops")
	if _, err := bob2.Send(servertest.Context(t), "ops", "after the restart"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "bob: after the restart")
	r.write(t, "/quit\n")
	r.wait(t)

	out := r.out.String()
	for _, line := range []string{"bob: before you came", "bob: after the nick", "bob: after the restart"} {
		if n := strings.Count(out, line); n != 1 {
			t.Errorf("%q printed %d times", line, n)
		}
	}
	if strings.Contains(out, "alice: mine") {
		t.Errorf("the user's own line was printed")
	}
	for _, own := range []string{"carol joined", "alice left"} {
		if strings.Contains(out, own) {
			t.Errorf("printed %q: the user's own /nick", own)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
