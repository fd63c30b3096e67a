package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// peer is another user, connected with the client package.
func peer(t *testing.T, ts *servertest.Server, name string, rooms ...string) *client.Client {
	t.Helper()
	return servertest.Dial(t, ts.URL(), client.Options{Name: name, Rooms: rooms})
}

// syncBuffer is an output the test reads while run writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput waits until out contains want.
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never contained %q; it is:\n%s", want, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running is a run of the command in the background, fed through a pipe.
type running struct {
	in       *io.PipeWriter
	out, err *syncBuffer
	code     chan int
}

func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	pr, pw := io.Pipe()
	r := &running{in: pw, out: &syncBuffer{}, err: &syncBuffer{}, code: make(chan int, 1)}
	go func() {
		r.code <- run(context.Background(), args, pr, r.out, r.err)
		pr.Close()
	}()
	t.Cleanup(func() { pw.Close() })
	return r
}

func (r *running) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(r.in, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// wait closes the input and returns the exit status.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	r.in.Close()
	select {
	case code := <-r.code:
		return code
	case <-time.After(10 * time.Second):
		t.Fatalf("chat did not exit; stderr:\n%s", r.err)
		return -1
	}
}

func TestScript(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	ops := peer(t, ts, "ops-watcher", "ops")
	var out, errb bytes.Buffer
	code := run(servertest.Context(t), []string{"-url", ts.URL(), "-room", "Ops", "-name", "bot"}, strings.NewReader("hello\n\nworld\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, &errb)
	}
	for _, want := range []string{"hello", "world"} {
		if m := servertest.Next[*client.Message](t, ops); m.Text != want || m.From != "bot" || m.Room != "ops" {
			t.Fatalf("got %s, want %q from bot", m.Raw, want)
		}
	}
}

func TestScriptRefused(t *testing.T) {
	ts := servertest.Start(t, server.Config{MaxMessageBytes: 200})
	var out, errb bytes.Buffer
	code := run(servertest.Context(t), []string{"-url", ts.URL(), "-room", "no spaces"}, strings.NewReader("hi\n"), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "invalid_room") {
		t.Fatalf("invalid room: exit %d, stderr %q", code, &errb)
	}
	errb.Reset()
	code = run(servertest.Context(t), []string{"-url", ts.URL()}, strings.NewReader("fine\n"+strings.Repeat("x", 300)+"\n"), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "line 2 not sent") {
		t.Fatalf("oversized line: exit %d, stderr %q", code, &errb)
	}
	errb.Reset()
	code = run(servertest.Context(t), []string{"-url", "ws://" + ts.Addr + "/nope"}, strings.NewReader("hi\n"), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "404") {
		t.Fatalf("bad URL: exit %d, stderr %q", code, &errb)
	}
	if code := run(servertest.Context(t), []string{"-bogus"}, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("bad flag: exit %d", code)
	}
}

func TestScriptReconnects(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	watcher := peer(t, ts, "watcher", "ops")
	r := startRun(t, "-url", ts.URL(), "-room", "ops", "-name", "bot", "-json")
	r.write(t, "before\n")
	if m := servertest.Next[*client.Message](t, watcher); m.Text != "before" {
		t.Fatalf("got %s", m.Raw)
	}
	// Wait for the ack: a send whose ack the shutdown cut off is sent again
	// after the reconnect, and the new server cannot know it is a repeat.
	waitOutput(t, r.out, `"request":"send"`)
	ts.Stop(t)
	ts2 := servertest.StartAt(t, server.Config{}, ts.Addr)
	watcher2 := peer(t, ts2, "watcher", "ops")
	r.write(t, "after\n")
	if m := servertest.Next[*client.Message](t, watcher2); m.Text != "after" || m.From != "bot" {
		t.Fatalf("got %s", m.Raw)
	}
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, r.err)
	}
	notices := r.err.String()
	if !strings.Contains(notices, "connection lost") || !strings.Contains(notices, "reconnected as bot; rejoined #ops") {
		t.Fatalf("stderr:\n%s", notices)
	}
}

func TestInteractive(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{})
	bob := peer(t, ts, "bob", "ops")
	r := startRun(t, "-url", ts.URL(), "-name", "alice")
	waitOutput(t, r.out, "joined #lobby (alice)")

	r.write(t, "/join Ops\n")
	waitOutput(t, r.out, "joined #ops (alice, bob); now talking in #ops")
	r.write(t, "hello bob\n")
	if m := servertest.Next[*client.Message](t, bob); m.Text != "hello bob" || m.From != "alice" || m.Room != "ops" {
		t.Fatalf("bob got %s", m.Raw)
	}
	r.write(t, "//not a command\n")
	if m := servertest.Next[*client.Message](t, bob); m.Text != "/not a command" {
		t.Fatalf("bob got %s", m.Raw)
	}
	if _, err := bob.Send(servertest.Context(t), "ops", "hi alice\x1b[2J"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] bob: hi alice\\x1b[2J")
	if _, err := bob.DM(servertest.Context(t), "alice", "psst"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[dm] bob → you: psst")

	r.write(t, "/who\n/rooms\n/msg bob lunch?\n/history 5\n/bogus\n/who nowhere\n/help\n")
	waitOutput(t, r.out, "Commands:")
	waitOutput(t, r.err, "who nowhere: who refused: unknown_room")
	waitOutput(t, r.err, "unknown command /bogus")
	out := r.out.String()
	for _, want := range []string{
		"* in #ops: alice, bob",
		"rooms (* joined): *lobby (1), *ops (2)",
		"[dm] you → bob: lunch?",
		"keeps no history",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	timed := regexp.MustCompile(`(?m)^#\d+ \d\d:\d\d:\d\d \[ops\] bob: hi alice`)
	if !timed.MatchString(out) {
		t.Errorf("no timestamped message line")
	}

	r.write(t, "/nick carol\n")
	waitOutput(t, r.out, "you are now carol")
	r.write(t, "as carol\n")
	if m := servertest.Next[*client.Message](t, bob); m.Text != "as carol" || m.From != "carol" {
		t.Fatalf("bob got %s", m.Raw)
	}
	r.write(t, "/leave\n")
	waitOutput(t, r.out, "left #ops")
	waitOutput(t, r.out, "now talking in #lobby")
	r.write(t, "/quit\n")
	select {
	case code := <-r.code:
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("/quit did not exit")
	}
	if t.Failed() {
		t.Logf("output:\n%s\nstderr:\n%s", r.out, r.err)
	}
}

func TestAScriptRunTwiceKeepsItsName(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	ci := peer(t, ts, "watcher", "ci")
	// The first run closes with a goodbye, which frees the name at once.
	for _, text := range []string{"first", "second"} {
		var out, errb bytes.Buffer
		code := run(servertest.Context(t), []string{"-url", ts.URL(), "-room", "ci", "-name", "deploy-bot"}, strings.NewReader(text+"\n"), &out, &errb)
		if code != 0 {
			t.Fatalf("%s run: exit %d; stderr:\n%s", text, code, &errb)
		}
		if m := servertest.Next[*client.Message](t, ci); m.Text != text || m.From != "deploy-bot" {
			t.Fatalf("got %s, want %q from deploy-bot", m.Raw, text)
		}
	}
}
