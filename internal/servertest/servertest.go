// Package servertest runs real chatd servers on loopback for the tests of
// chatd's packages, exactly as the chatd command serves them
// (server.Server.Serve on a listener), and stops them when a test ends.
package servertest

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
)

// Server is a running server. Its methods are safe for concurrent use.
type Server struct {
	*server.Server
	// Addr is the host:port it listens on.
	Addr string

	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// Start serves a new server with cfg on a random loopback port. A nil
// cfg.Logger discards logs. The server stops when the test ends.
func Start(tb testing.TB, cfg server.Config) *Server {
	tb.Helper()
	return StartAt(tb, cfg, "127.0.0.1:0")
}

// StartAt is Start on a given address, to restart a server where its
// clients expect it.
func StartAt(tb testing.TB, cfg server.Config, addr string) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	return StartOn(tb, cfg, ln)
}

// StartOn is Start on a listener the test made, for example one whose
// sockets have small buffers, as on a real network.
func StartOn(tb testing.TB, cfg server.Config, ln net.Listener) *Server {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Server: server.New(cfg), Addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- s.Serve(ctx, ln, 5*time.Second) }()
	tb.Cleanup(func() { s.Stop(tb) })
	return s
}

// URL is the server's WebSocket endpoint.
func (s *Server) URL() string { return "ws://" + s.Addr + "/ws" }

// Stop shuts the server down (clients get 1001) and waits for Serve to
// return; calling it again does nothing.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				tb.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Error("server did not stop within 10s")
		}
	})
}
