package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestBinaryServesAndStopsOnSIGTERM builds the real binary, runs it on a
// random port, chats through it, and checks that SIGTERM closes clients
// with 1001 and exits 0.
func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	// The address comes from the environment, as an operator might set it;
	// the default store goes to ./chatd-data in a temporary directory.
	url, cmd := startChatdEnv(t, buildChatd(t), []string{"CHATD_ADDR=127.0.0.1:0"}, "-log-level", "debug")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.CloseNow()
	b, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.CloseNow()
	// b may not have joined when a sends; resend until it arrives.
	got := make(chan string, 1)
	go func() {
		_, p, err := b.Read(ctx)
		if err == nil {
			got <- string(p)
		}
	}()
	var text string
	for text == "" {
		if err := a.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		select {
		case text = <-got:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("message never arrived")
		}
	}
	if text != "hi" {
		t.Fatalf("got %q", text)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, _, err = a.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
		t.Fatalf("after SIGTERM: %v, want close 1001", err)
	}
	b.CloseNow()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("chatd exit: %v", err)
	}
}

func TestConfigFromFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"CHATD_ADDR": "127.0.0.1:9", "CHATD_MAX_CONNS": "7", "CHATD_LOG_LEVEL": "debug"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := parseConfig([]string{"-max-conns", "5"}, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:9" || c.server.MaxConns != 5 || c.logLevel != "debug" {
		t.Fatalf("got addr %q max-conns %d level %q; want env addr, flag max-conns, env level", c.addr, c.server.MaxConns, c.logLevel)
	}
	env["CHATD_QUEUE_BYTES"] = "lots"
	if _, err := parseConfig(nil, lookup, io.Discard); err == nil || !strings.Contains(err.Error(), "CHATD_QUEUE_BYTES") {
		t.Fatalf("bad env value: %v", err)
	}
	if _, err := parseConfig([]string{"extra"}, lookup, io.Discard); err == nil {
		t.Fatal("stray argument accepted")
	}
}

func TestDefaultsNeedNoConfiguration(t *testing.T) {
	c, err := parseConfig(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:8082" {
		t.Fatalf("default addr %q", c.addr)
	}
}
