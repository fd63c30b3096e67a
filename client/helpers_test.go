package client_test

import (
	"context"
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

// testServer is a real chatd server on loopback.
type testServer struct {
	*servertest.Server
	addr string
}

// start serves a new server on addr ("" for a random port).
func start(t *testing.T, cfg server.Config, addr string) *testServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s := servertest.StartAt(t, cfg, addr)
	return &testServer{Server: s, addr: s.Addr}
}

// stop shuts the server down (clients get 1001) and waits for it.
func (ts *testServer) stop(t *testing.T) { ts.Stop(t) }

func (ts *testServer) url() string { return ts.URL() }

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
