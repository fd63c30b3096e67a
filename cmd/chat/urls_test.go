package main

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestScriptTriesTheNextURL gives -url a server that is down, then one
// that is up: the script runs on the second.
func TestScriptTriesTheNextURL(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	ops := peer(t, ts, "ops-watcher", "ops")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // nothing listens there now
	var out, errb bytes.Buffer
	code := run(servertest.Context(t), []string{"-url", down + ", " + ts.URL(), "-room", "ops", "-name", "bot"}, strings.NewReader("hello\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, &errb)
	}
	if m := servertest.Next[*client.Message](t, ops); m.Text != "hello" || m.From != "bot" {
		t.Fatalf("got %s", m.Raw)
	}
}
