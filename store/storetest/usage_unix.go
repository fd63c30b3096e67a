//go:build unix

package storetest

import "syscall"

// usage is the CPU time and the bytes written to storage by this process
// so far. Benchmarks report them per message because, on a shared machine,
// they hold up where wall-clock rates do not.
func usage() (cpuMicros, written int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	cpu := ru.Utime.Nano() + ru.Stime.Nano()
	// ru_oublock counts blocks of 512 bytes.
	return cpu / 1000, ru.Oublock * 512, true
}
