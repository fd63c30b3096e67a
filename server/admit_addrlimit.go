package server

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedAddrs bounds the memory the per-address limits use. Entries
// leave once an address has no connection and its rate bucket has
// refilled. A flood from more addresses than this (cheap with IPv6) fills
// the table; a new address then takes the place of one that holds no
// connection, so a full table forgets some flooder's rate but never turns
// a newcomer away. Only addresses holding connections are never forgotten,
// and -max-conns keeps those far fewer than this.
var maxTrackedAddrs = 100_000

// addrLimiter caps concurrent connections and the connection rate per
// client address. The zero limits mean none. Its methods are safe for
// concurrent use.
type addrLimiter struct {
	maxConns   int
	rate       rate.Limit
	burst      int
	maxTracked int // maxTrackedAddrs when made

	mu     sync.Mutex
	byAddr map[netip.Prefix]*addrEntry
}

type addrEntry struct {
	conns  int
	bucket *rate.Limiter // nil without a rate limit
}

func newAddrLimiter(maxConns int, perSecond float64, burst int) *addrLimiter {
	return &addrLimiter{maxConns: maxConns, rate: rate.Limit(perSecond), burst: burst,
		maxTracked: maxTrackedAddrs, byAddr: make(map[netip.Prefix]*addrEntry)}
}

func (l *addrLimiter) enabled() bool { return l.maxConns > 0 || l.rate > 0 }

// acquire counts a new connection from key, or returns the Refused*
// reason it is over a limit for.
func (l *addrLimiter) acquire(key netip.Prefix, now time.Time) string {
	if !l.enabled() {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.byAddr[key]
	if e == nil {
		if len(l.byAddr) >= l.maxTracked && !l.forgetIdleLocked() {
			return RefusedIPRate
		}
		e = &addrEntry{}
		if l.rate > 0 {
			e.bucket = rate.NewLimiter(l.rate, l.burst)
		}
		l.byAddr[key] = e
	}
	if l.maxConns > 0 && e.conns >= l.maxConns {
		return RefusedIPConns
	}
	if e.bucket != nil && !e.bucket.AllowN(now, 1) {
		return RefusedIPRate
	}
	e.conns++
	return ""
}

// release ends a connection that acquire counted.
func (l *addrLimiter) release(key netip.Prefix) {
	if !l.enabled() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.byAddr[key]; e != nil {
		e.conns--
		if e.conns <= 0 && e.bucket == nil {
			delete(l.byAddr, key)
		}
	}
}

// forgetIdleLocked drops one address that holds no connection, to make
// room in a full table, and reports whether it found one. Map iteration
// order makes the choice random, so a flooder cannot aim it.
func (l *addrLimiter) forgetIdleLocked() bool {
	for k, e := range l.byAddr {
		if e.conns <= 0 {
			delete(l.byAddr, k)
			return true
		}
	}
	return false
}

// sweep forgets addresses with no connection whose bucket is full again:
// they are indistinguishable from addresses never seen.
func (l *addrLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.byAddr {
		if e.conns <= 0 && (e.bucket == nil || e.bucket.TokensAt(now) >= float64(l.burst)) {
			delete(l.byAddr, k)
		}
	}
}
