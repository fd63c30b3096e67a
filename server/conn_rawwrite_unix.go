//go:build unix

package server

import (
	"net"
	"syscall"
	"unsafe"
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

// attempt writes with RawSyscall, which does not tell the scheduler that
// the goroutine entered a system call: a write to a non-blocking socket
// returns as soon as the kernel has copied what fits, so there is no wait
// for the runtime to hand the P to another thread for, and announcing it
// cost a few per cent of a writer's CPU (and, on a busy machine, P
// hand-offs and thread wake-ups while the write ran).
func (w *nonblockingWriter) attempt(fd uintptr) {
	if len(w.buf) == 0 {
		w.n, w.err = 0, nil
		return
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(w.buf))), uintptr(len(w.buf)))
	if errno != 0 {
		w.n, w.err = 0, errno
		return
	}
	w.n, w.err = int(n), nil
}
