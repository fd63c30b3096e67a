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

// SetMaxTrackedKeys changes how many keys each login limiter of a server
// made afterwards holds, for a test, and returns a function that restores
// it.
func SetMaxTrackedKeys(n int) (restore func()) {
	old := maxTrackedKeys
	maxTrackedKeys = n
	return func() { maxTrackedKeys = old }
}

// HoldHashing takes every password-hashing slot of s, so that requests
// needing a hash wait, and returns a function that gives them back.
func HoldHashing(s *Server) (release func()) {
	for range cap(s.hashing) {
		s.hashing <- struct{}{}
	}
	return func() {
		for range cap(s.hashing) {
			<-s.hashing
		}
	}
}

// SetMaxTrackedAddrs changes how many addresses each per-address limiter
// made afterwards tracks, for a test, and returns a function
// that restores it.
func SetMaxTrackedAddrs(n int) (restore func()) {
	old := maxTrackedAddrs
	maxTrackedAddrs = n
	return func() { maxTrackedAddrs = old }
}

// SetParkGap changes the pause after which an idle reader parks, for a
// test, and returns a function that restores it.
func SetParkGap(d time.Duration) (restore func()) {
	old := parkGap
	parkGap = d
	return func() { parkGap = old }
}
