package server

import (
	"errors"
)

var (
	errShuttingDown = errors.New("server is shutting down")
	errTooManyConns = errors.New("too many connections")
)

// reserve claims a connection slot before the upgrade, so that the cap is
// enforced with a 503 while the client can still read an HTTP response.
func (s *Server) reserve() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return errShuttingDown
	case s.reserved >= s.cfg.MaxConns:
		return errTooManyConns
	}
	s.reserved++
	return nil
}

// unreserve returns a slot that no connection took.
func (s *Server) unreserve() {
	s.mu.Lock()
	s.reserved--
	s.mu.Unlock()
}

// register adds an upgraded connection. It fails once Shutdown has begun,
// so that Shutdown's sweep cannot miss a connection; the admission then
// gives back the slot.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.readers.Add(1)
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.reserved--
	s.mu.Unlock()
	s.addrs.release(c.addr)
	s.readers.Done()
}
