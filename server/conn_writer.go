package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// writer is one of the goroutines that write queued frames to sockets. Each
// connection's outbox belongs to one writer for its whole life.
//
// A writer sleeps until a connection becomes ready, then sweeps every ready
// connection once, writing each one's whole queue in one system call.
// Frames queued while a sweep runs wait for the next sweep, so under load
// many frames share a write without anyone choosing a rate.
//
// The cost of fan-out is the number of writes, and a long sweep is a sign
// that more frames are coming. So a writer does not start a sweep sooner
// than holdFactor times the length of its previous sweep after that sweep
// began: frames wait in proportion to the writing the writer is actually
// doing, and never longer than maxHold. A frame that reaches a writer
// maxHold or more after its last sweep began, or after a sweep that wrote
// nothing much, goes out at once; no rate is configured.
type writer struct {
	wake chan struct{} // capacity 1: a pending wake-up is enough
	stop <-chan struct{}

	mu     sync.Mutex
	queued []*outbox

	// writes counts the socket writes made by this writer's sweeps, for
	// Stats; it is added to once per sweep.
	writes atomic.Uint64

	// Owned by the writer goroutine.
	batch []*outbox
	buf   []byte
	nw    nonblockingWriter
	// next is when the next sweep may start; see holdFactor.
	next  time.Time
	timer *time.Timer
}

// A busy writer starts a sweep no sooner than holdFactor times the length
// of its previous sweep after that one started, and never holds frames
// back longer than maxHold. With a factor of 4 a writer spends at most a
// fifth of its time writing before frames start to wait, and a fan-out to
// a thousand connections (about 1.5 ms of writes for each of two writers)
// is held about 5 ms; a fan-out to a few connections is held a few
// microseconds. The ceiling keeps the added latency well inside what a
// person notices and what a reading client's queue absorbs.
const (
	holdFactor = 4
	maxHold    = 5 * time.Millisecond
)

// holdAfter is how long after a sweep of length took began the next sweep
// may start.
func holdAfter(took time.Duration) time.Duration {
	return min(holdFactor*took, maxHold)
}

func newWriter(stop <-chan struct{}) *writer {
	return &writer{wake: make(chan struct{}, 1), stop: stop}
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
	defer func() {
		if w.timer != nil {
			w.timer.Stop()
		}
	}()
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			return
		}
		for w.hold() && w.sweep() {
		}
	}
}

// hold waits until the next sweep may start. It returns false if the
// writer was stopped while waiting.
func (w *writer) hold() bool {
	d := time.Until(w.next)
	if d <= 0 {
		return true
	}
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-w.stop:
		return false
	}
}

// sweep writes every ready connection once. It returns false when there was
// nothing to do.
func (w *writer) sweep() bool {
	w.mu.Lock()
	w.batch, w.queued = w.queued, w.batch[:0]
	w.mu.Unlock()
	if len(w.batch) == 0 {
		return false
	}
	start := time.Now()
	var writes uint64
	for i, o := range w.batch {
		var wrote, again bool
		w.buf, wrote, again = o.writeQueued(&w.nw, w.buf)
		if wrote {
			writes++
		}
		if again {
			w.ready(o)
		}
		w.batch[i] = nil
	}
	w.writes.Add(writes)
	if cap(w.buf) > 1<<20 {
		w.buf = nil // one slow client's backlog must not stay pinned
	}
	took := time.Since(start)
	w.next = start.Add(holdAfter(took))
	return true
}
