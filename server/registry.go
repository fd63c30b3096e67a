package server

import (
	"errors"
	"net/netip"
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

// release returns a slot whose upgrade failed, and the address's count.
func (s *Server) release(addr netip.Prefix) {
	s.mu.Lock()
	s.reserved--
	s.mu.Unlock()
	s.addrs.release(addr)
}

// register adds an upgraded connection. It fails once Shutdown has begun,
// so that Shutdown's sweep cannot miss a connection.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.reserved--
		s.addrs.release(c.addr)
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
