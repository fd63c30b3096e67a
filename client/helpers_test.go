package client_test

import (
	"testing"

	"go.uber.org/goleak"

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
