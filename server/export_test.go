package server

import "time"

// SetTokenSweepInterval shortens the expired-token sweep for a test and
// returns a function that restores it.
func SetTokenSweepInterval(d time.Duration) (restore func()) {
	old := tokenSweepInterval
	tokenSweepInterval = d
	return func() { tokenSweepInterval = old }
}

// SetGuestGrace changes how long a disconnected guest keeps its name, for
// a test, and returns a function that restores it.
func SetGuestGrace(d time.Duration) (restore func()) {
	old := guestGrace
	guestGrace = d
	return func() { guestGrace = old }
}
