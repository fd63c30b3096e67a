//go:build unix

package server

import (
	"net"
	"syscall"
)

// rawConnOf returns the descriptor access of nc, or nil when nc cannot be
// written directly (a TLS connection, for example).
func rawConnOf(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeNow makes one write(2) attempt on a non-blocking socket and never
// waits: it returns how much the kernel took, which is 0 when the socket
// buffer is full. Go's sockets are non-blocking, so returning true from the
// callback skips the runtime's wait for writability.
func writeNow(rc syscall.RawConn, b []byte) (int, error) {
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case werr == syscall.EAGAIN || werr == syscall.EINTR:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
