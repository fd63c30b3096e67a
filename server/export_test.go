package server

import (
	"time"
	"unsafe"
)

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

// IdleHoldings looks at s's connections whose readers are parked: how
// many there are, how many of them hold a queue array, reader state made
// by sending, or a signed-in identity, and how many distinct copies of
// room names they hold among them (by the bytes' address).
func IdleHoldings(s *Server) (parked, queues, actives, signed, roomCopies int) {
	names := make(map[*byte]bool)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if !c.parked() {
			continue
		}
		parked++
		c.out.mu.Lock()
		if c.out.queue != nil {
			queues++
		}
		c.out.mu.Unlock()
		// The reader's state: a reader resumed to end the connection
		// leaves its rooms under handling.
		c.handling.Lock()
		if c.active != nil {
			actives++
		}
		for _, r := range c.rooms {
			names[unsafe.StringData(r)] = true
		}
		c.handling.Unlock()
		c.authMu.Lock()
		if c.signed != nil {
			signed++
		}
		c.authMu.Unlock()
	}
	return parked, queues, actives, signed, len(names)
}

// WritersHold is how long the writers of s hold frames now, and the base
// hold they start from.
func WritersHold(s *Server) (now, base time.Duration) {
	h := s.writers[0].hold
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h.d, baseHold
}
