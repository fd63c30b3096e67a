package server

import "time"

// SetTokenSweepInterval shortens the expired-token sweep for a test and
// returns a function that restores it.
func SetTokenSweepInterval(d time.Duration) (restore func()) {
	old := tokenSweepInterval
	tokenSweepInterval = d
	return func() { tokenSweepInterval = old }
}
