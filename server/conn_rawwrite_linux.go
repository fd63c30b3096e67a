//go:build linux && !386

package server

import (
	"syscall"
	"unsafe"
)

// writeNonblocking writes b to the non-blocking socket fd with RawSyscall,
// which does not tell the scheduler that the goroutine entered a system
// call: such a write returns as soon as the kernel has copied what fits,
// so there is no wait for the runtime to hand the P to another thread
// for, and announcing it cost a few per cent of a writer's CPU and, on a
// busy machine, P hand-offs and thread wake-ups while the write ran
// (docs/benchmarks.md). It is send(2) (sendto without an address) rather
// than write(2): on a socket they do the same, but write first goes through
// the file layer's checks and position lock (a tenth of a small write's
// profile samples, about 6% of its CPU in BenchmarkNonblockingWrite).
// MSG_NOSIGNAL spares a write to a reset connection the SIGPIPE that
// the runtime would ignore. Linux only: other systems' system calls go
// through their C library, or must not be made raw.
func writeNonblocking(fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	//nolint:gosec // G103: send(2) takes the buffer's address, and a conversion in RawSyscall6's argument list keeps b alive for the call
	n, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), syscall.MSG_NOSIGNAL, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
