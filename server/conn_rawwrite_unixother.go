//go:build unix && (!linux || 386)

package server

import "syscall"

// writeNonblocking writes b to the non-blocking socket fd. Outside Linux
// (and on 32-bit x86 Linux, which has no send system call of its own) the
// system call goes through syscall.Write: on some systems (OpenBSD) a raw
// system call from outside the C library is not allowed.
func writeNonblocking(fd uintptr, b []byte) (int, error) {
	return syscall.Write(int(fd), b)
}
