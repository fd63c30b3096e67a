package sqlite

import "time"

// SetBusyTimeout sets how long new connections wait for another process's
// lock, and returns a function that restores the previous value.
func SetBusyTimeout(d time.Duration) (restore func()) {
	old := busyTimeout
	busyTimeout = d
	return func() { busyTimeout = old }
}
