//go:build unix

package server

import "syscall"

// DefaultMaxConns derives the connection cap from the process's open-file
// limit, keeping 10% (at least 64) of descriptors for listeners, files and
// database connections, so that an overload is answered with 503 at the
// upgrade rather than by accept failing.
func DefaultMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 1000
	}
	n := int(min(lim.Cur, 1<<24))
	return max(n-max(n/10, 64), 16)
}
