package server

import (
	"container/list"
	"sync"
	"time"
)

// maxTrackedKeys bounds the entries of one keyedLimiter. Tests lower it.
var maxTrackedKeys = 100_000

// keyedLimiter is a token bucket per key (an account, an address, an
// account and address), for login, password and registration attempts.
// Its table is bounded, and a full table forgets its least recently used
// key to make room: it may forget an attacker, who then starts afresh,
// but it never turns anyone away for want of room. Its methods are safe
// for concurrent use.
//
// The buckets are its own rather than golang.org/x/time/rate's because an
// attempt must be able to give its token back after the fact (a login that
// proves to be the owner's is no guess), which rate's reservations cannot.
type keyedLimiter struct {
	perSecond float64 // refill; <= 0: no limit
	burst     float64
	max       int

	mu    sync.Mutex
	keys  map[string]*list.Element // of *keyedEntry
	order list.List                // most recently used first
}

type keyedEntry struct {
	key    string
	tokens float64   // as of at
	at     time.Time // when tokens was last brought up to date
}

// newKeyedLimiter allows burst attempts per key, refilled evenly over per.
// A burst <= 0 means no limit.
func newKeyedLimiter(burst int, per time.Duration) *keyedLimiter {
	l := &keyedLimiter{burst: float64(burst), max: maxTrackedKeys, keys: make(map[string]*list.Element)}
	if burst > 0 {
		l.perSecond = float64(burst) / per.Seconds()
	}
	return l
}

// attempt is one token taken from a keyedLimiter.
type attempt struct {
	l   *keyedLimiter
	key string
}

// giveBack returns the attempt's token to its bucket, if the bucket is
// still remembered.
func (a attempt) giveBack(now time.Time) {
	if a.l == nil {
		return
	}
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	if e := a.l.keys[a.key]; e != nil {
		ke := e.Value.(*keyedEntry)
		ke.tokens = min(a.l.tokensAt(ke, now)+1, a.l.burst)
		ke.at = now
	}
}

// take takes one attempt for key, or says how long until the next.
func (l *keyedLimiter) take(key string, now time.Time) (a attempt, ok bool, retry time.Duration) {
	if l.perSecond <= 0 {
		return attempt{}, true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ke := l.entryLocked(key, now)
	tokens := l.tokensAt(ke, now)
	if tokens < 1 {
		return attempt{}, false, time.Duration((1 - tokens) / l.perSecond * float64(time.Second))
	}
	ke.tokens, ke.at = tokens-1, now
	return attempt{l, key}, true, 0
}

func (l *keyedLimiter) tokensAt(ke *keyedEntry, now time.Time) float64 {
	elapsed := max(now.Sub(ke.at).Seconds(), 0)
	return min(ke.tokens+elapsed*l.perSecond, l.burst)
}

// entryLocked returns key's entry, made most recently used, making one
// (and room for it) if needed.
func (l *keyedLimiter) entryLocked(key string, now time.Time) *keyedEntry {
	if e := l.keys[key]; e != nil {
		l.order.MoveToFront(e)
		return e.Value.(*keyedEntry)
	}
	for l.order.Len() >= max(l.max, 1) {
		oldest := l.order.Back()
		delete(l.keys, oldest.Value.(*keyedEntry).key)
		l.order.Remove(oldest)
	}
	ke := &keyedEntry{key: key, tokens: l.burst, at: now}
	l.keys[key] = l.order.PushFront(ke)
	return ke
}

// sweep forgets keys whose bucket is full again: they are
// indistinguishable from keys never seen.
func (l *keyedLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.keys {
		if l.tokensAt(e.Value.(*keyedEntry), now) >= l.burst {
			delete(l.keys, k)
			l.order.Remove(e)
		}
	}
}
