package server

import (
	"net"
	"net/netip"
)

// admission is what a WebSocket upgrade holds while it is being admitted:
// its address's count, a connection slot, the socket, and the connection
// with its session, expiry timer and rooms. It is the one owner of all of
// them until the connection is registered, when the reader's cleanup
// takes over: Close gives back whatever is held, so that every way out of
// handleWS rolls back the same way.
type admission struct {
	s    *Server
	addr netip.Prefix
	slot bool     // a connection slot is reserved
	nc   net.Conn // the upgraded socket, if any
	c    *conn    // the connection, once built on nc
	// goodbye is a close frame to write before the socket closes, telling
	// an upgraded client why it was not admitted.
	goodbye []byte
	// admitted hands everything over to the registered connection.
	admitted bool
}

// refuse makes Close tell the client frame before closing the socket.
func (a *admission) refuse(frame []byte) { a.goodbye = frame }

// Close gives back what a holds, unless the connection was admitted. The
// client is told last, so that whatever it held is free again by the time
// it reads the close frame.
func (a *admission) Close() {
	if a.admitted {
		return
	}
	if c := a.c; c != nil {
		c.leaveAll()
		if c.sess != nil {
			a.s.sessions.release(c.sess, c, false)
		}
		c.stopExpiry()
	}
	if a.slot {
		a.s.unreserve()
	}
	a.s.addrs.release(a.addr)
	if a.nc == nil {
		return
	}
	if a.goodbye != nil {
		_, _ = a.nc.Write(a.goodbye)
	}
	if a.c != nil {
		a.c.out.abort() // closes nc, and the queue with it
	} else {
		_ = a.nc.Close()
	}
}
