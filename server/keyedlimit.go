package server

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedKeys bounds the entries of one keyedLimiter. Tests lower it.
var maxTrackedKeys = 100_000

// keyedLimiter is a token bucket per key (an account, an address, an
// account and address), for login, password and registration attempts.
// Its table is bounded, and a full table forgets its least recently used
// key to make room: it may forget an attacker, who then starts afresh,
// but it never turns anyone away for want of room. Its methods are safe
// for concurrent use.
type keyedLimiter struct {
	every rate.Limit // tokens per second; <= 0: no limit
	burst int
	max   int

	mu    sync.Mutex
	keys  map[string]*list.Element // of *keyedEntry
	order list.List                // most recently used first
}

type keyedEntry struct {
	key    string
	bucket *rate.Limiter
}

// newKeyedLimiter allows burst attempts per key, refilled evenly over per.
// A burst <= 0 means no limit.
func newKeyedLimiter(burst int, per time.Duration) *keyedLimiter {
	l := &keyedLimiter{burst: burst, max: maxTrackedKeys, keys: make(map[string]*list.Element)}
	if burst > 0 {
		l.every = rate.Limit(float64(burst) / per.Seconds())
	}
	return l
}

// attempt is one attempt taken from a keyedLimiter; give it back when it
// should not count (a successful login counts no guess).
type attempt struct{ r *rate.Reservation }

// giveBack returns the attempt's token to its bucket.
func (a attempt) giveBack(now time.Time) {
	if a.r != nil {
		a.r.CancelAt(now)
	}
}

// take takes one attempt for key, or says how long until the next.
func (l *keyedLimiter) take(key string, now time.Time) (a attempt, ok bool, retry time.Duration) {
	if l.every <= 0 {
		return attempt{}, true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.entryLocked(key).bucket.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return attempt{}, false, d
	}
	return attempt{r}, true, 0
}

// exhausted reports whether key has no attempt left now, without taking one.
func (l *keyedLimiter) exhausted(key string, now time.Time) bool {
	if l.every <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[key]
	return e != nil && e.Value.(*keyedEntry).bucket.TokensAt(now) < 1
}

// entryLocked returns key's entry, made most recently used, making one
// (and room for it) if needed.
func (l *keyedLimiter) entryLocked(key string) *keyedEntry {
	if e := l.keys[key]; e != nil {
		l.order.MoveToFront(e)
		return e.Value.(*keyedEntry)
	}
	for l.order.Len() >= max(l.max, 1) {
		oldest := l.order.Back()
		delete(l.keys, oldest.Value.(*keyedEntry).key)
		l.order.Remove(oldest)
	}
	ke := &keyedEntry{key: key, bucket: rate.NewLimiter(l.every, l.burst)}
	l.keys[key] = l.order.PushFront(ke)
	return ke
}

// sweep forgets keys whose bucket is full again: they are
// indistinguishable from keys never seen.
func (l *keyedLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.keys {
		if e.Value.(*keyedEntry).bucket.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
			l.order.Remove(e)
		}
	}
}
