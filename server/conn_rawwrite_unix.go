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

// nonblockingWriter makes single write attempts on non-blocking sockets.
// Each writer goroutine owns one and reuses it, so that the callback that
// syscall.RawConn.Control takes is allocated once rather than per write.
type nonblockingWriter struct {
	buf []byte
	n   int
	err error
	fn  func(fd uintptr)
}

// write makes one attempt and never waits: it returns how much the kernel
// took, which is 0 when the socket buffer is full.
//
// It goes through RawConn.Control rather than RawConn.Write: both hold a
// reference that keeps a concurrent Close from freeing the descriptor (and
// the number from being reused) while the write runs, but Write also takes
// the fd's write lock and resets its poller state for a wait we never make,
// and only the outbox's owner writes, so the lock guards nothing here.
func (w *nonblockingWriter) write(rc syscall.RawConn, b []byte) (int, error) {
	if w.fn == nil {
		w.fn = w.attempt
	}
	w.buf = b
	err := rc.Control(w.fn)
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

func (w *nonblockingWriter) attempt(fd uintptr) {
	w.n, w.err = writeNonblocking(fd, w.buf)
}
