//go:build unix && !linux

package server

import "syscall"

// writeNonblocking writes b to the non-blocking socket fd. Outside Linux
// the system call goes through syscall.Write: on some systems (OpenBSD)
// a raw system call from outside the C library is not allowed.
func writeNonblocking(fd uintptr, b []byte) (int, error) {
	return syscall.Write(int(fd), b)
}
