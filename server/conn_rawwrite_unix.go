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

// nonblockingWriter makes single write(2) attempts on non-blocking sockets.
// Each writer goroutine owns one and reuses it, so that the callback that
// syscall.RawConn.Write takes is allocated once rather than per write.
type nonblockingWriter struct {
	buf []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// write makes one attempt and never waits: it returns how much the kernel
// took, which is 0 when the socket buffer is full. Go's sockets are
// non-blocking, so returning true from the callback skips the runtime's
// wait for writability.
func (w *nonblockingWriter) write(rc syscall.RawConn, b []byte) (int, error) {
	if w.fn == nil {
		w.fn = w.attempt
	}
	w.buf = b
	err := rc.Write(w.fn)
	w.buf = nil
	switch {
	case err != nil:
		return 0, err
	case w.err == syscall.EAGAIN || w.err == syscall.EINTR:
		return 0, nil
	case w.err != nil:
		return 0, w.err
	}
	return w.n, nil
}

func (w *nonblockingWriter) attempt(fd uintptr) bool {
	w.n, w.err = syscall.Write(int(fd), w.buf)
	return true
}
