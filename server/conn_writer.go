package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// writer is one of the goroutines that write queued frames to sockets. Each
// connection's outbox belongs to one writer for its whole life.
//
// A writer sleeps until a connection becomes ready, then sweeps every ready
// connection once, writing each one's whole queue in one system call. Under
// load, frames queued while a sweep runs are written by the next sweep, so
// the number of writes per second stays near the number of sweeps times the
// number of busy connections rather than the number of deliveries. The
// budget limiter caps writes per second: when it is spent the writer waits
// before sweeping, and the wait lets more frames share each write.
type writer struct {
	wake   chan struct{} // capacity 1: a pending wake-up is enough
	stop   <-chan struct{}
	budget *rate.Limiter // nil: no limit

	mu     sync.Mutex
	queued []*outbox

	// Owned by the writer goroutine.
	batch []*outbox
	buf   []byte
	nw    nonblockingWriter
}

func newWriter(stop <-chan struct{}, writesPerSec float64) *writer {
	w := &writer{wake: make(chan struct{}, 1), stop: stop}
	if writesPerSec > 0 {
		// A tenth of a second of budget may be spent at once, so that light
		// traffic is never delayed.
		w.budget = rate.NewLimiter(rate.Limit(writesPerSec), max(int(writesPerSec/10), 1))
	}
	return w
}

// ready queues o for the next sweep. o.scheduled was set by the caller, so o
// is in at most one writer's list at a time.
func (w *writer) ready(o *outbox) {
	w.mu.Lock()
	w.queued = append(w.queued, o)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) run() {
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			return
		}
		for w.sweep() {
		}
	}
}

// sweep writes every ready connection once. It returns false when there was
// nothing to do or the writer is stopping.
func (w *writer) sweep() bool {
	w.mu.Lock()
	n := len(w.queued)
	w.mu.Unlock()
	if n == 0 {
		return false
	}
	if !w.spend(n) {
		return false
	}
	w.mu.Lock()
	w.batch, w.queued = w.queued, w.batch[:0]
	w.mu.Unlock()
	for i, o := range w.batch {
		var again bool
		w.buf, again = o.writeQueued(&w.nw, w.buf)
		if again {
			w.ready(o)
		}
		w.batch[i] = nil
	}
	if cap(w.buf) > 1<<20 {
		w.buf = nil // one slow client's backlog must not stay pinned
	}
	return true
}

// spend takes n writes from the budget, waiting if it is exhausted. It
// returns false if the writer was stopped while waiting.
func (w *writer) spend(n int) bool {
	if w.budget == nil {
		return true
	}
	now := time.Now()
	d := w.budget.ReserveN(now, min(n, w.budget.Burst())).DelayFrom(now)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.stop:
		return false
	}
}
