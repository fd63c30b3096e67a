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
// (docs/benchmarks.md). Linux only: other systems' system calls go through
// their C library, or must not be made raw.
func writeNonblocking(fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	//nolint:gosec // G103: write(2) takes the buffer's address, and a conversion in RawSyscall's argument list keeps b alive for the call
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
