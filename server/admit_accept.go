package server

import (
	"net"
	"sync"
	"time"
)

// acceptLimiter is a net.Listener that caps the connections one client
// address holds open, counted from the moment they are accepted: WebSocket
// connections, HTTP keep-alive connections and requests not yet finished
// alike, so that one address cannot take every file descriptor before its
// requests reach the per-address WebSocket limits. A connection over the
// cap is closed at once, before anything is read from it. Trusted proxies
// are not counted: one proxy carries many clients, whose WebSocket
// connections the upgrade limits count one by one.
type acceptLimiter struct {
	net.Listener
	s     *Server
	addrs *addrLimiter
}

func (s *Server) limitAccepts(ln net.Listener) net.Listener {
	if s.cfg.IPTCPConns <= 0 {
		return ln
	}
	return &acceptLimiter{Listener: ln, s: s, addrs: newAddrLimiter(s.cfg.IPTCPConns, 0, 0)}
}

// Accept returns the next connection within its address's cap, closing
// those over it.
func (l *acceptLimiter) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := peerAddr(nc.RemoteAddr().String())
		if l.s.trusted(peer) {
			return nc, nil
		}
		key := addrKey(peer)
		if l.addrs.acquire(key, time.Now()) != "" {
			l.s.stats.refuse(RefusedIPTCPConns)
			_ = nc.Close()
			continue
		}
		release := func() { l.addrs.release(key) }
		if tc, ok := nc.(*net.TCPConn); ok {
			// Embedding the *net.TCPConn keeps what the writers need
			// (SyscallConn) and CloseWrite.
			return &countedTCPConn{TCPConn: tc, counted: counted{release: release}}, nil
		}
		return &countedConn{Conn: nc, counted: counted{release: release}}, nil
	}
}

// counted releases an accepted connection's count exactly once, however
// many times, and by whichever owner (net/http, or the WebSocket after the
// hijack), the connection is closed.
type counted struct {
	once    sync.Once
	release func()
}

type countedTCPConn struct {
	*net.TCPConn
	counted
}

func (c *countedTCPConn) Close() error {
	err := c.TCPConn.Close()
	c.once.Do(c.release)
	return err
}

type countedConn struct {
	net.Conn
	counted
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
