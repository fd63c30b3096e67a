package client_test

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is a real chatd server on a loopback port, served by
// Server.Serve as the chatd command does.
type testServer struct {
	*server.Server
	addr   string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// start serves a new server on addr ("" for a random port).
func start(t *testing.T, cfg server.Config, addr string) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: server.New(cfg), addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- ts.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop shuts the server down (clients get 1001) and waits for it.
func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	ts.once.Do(func() {
		ts.cancel()
		select {
		case err := <-ts.done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10s")
		}
	})
}

func (ts *testServer) url() string { return "ws://" + ts.addr + "/ws" }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, ts *testServer, opts client.Options) *client.Client {
	t.Helper()
	c, err := client.Dial(ctxT(t), ts.url(), opts)
	if err != nil {
		t.Fatalf("dial %+v: %v", opts, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// next returns the next event of type E, skipping others (presence and
// typing come and go with other clients).
func next[E client.Event](t *testing.T, c *client.Client) E {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed: %v", c.Err())
			}
			if e, ok := ev.(E); ok {
				return e
			}
		case <-timeout:
			var zero E
			t.Fatalf("no %T within 5s", zero)
		}
	}
}
