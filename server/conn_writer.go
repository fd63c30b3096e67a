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
// The cost of fan-out is the number of writes, so a writer that is busy
// does not start a sweep sooner than its hold (conn_hold.go) after its
// previous sweep began: frames wait in proportion to the writing the writer
// is actually doing and to how many of them its writes already share, and
// never longer than maxHold. A frame that reaches a writer after its hold
// has passed goes out at once; no rate is configured.
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
	// started is when the last sweep began, and next when the next may
	// start: started plus the hold, which all writers share.
	started, next time.Time
	hold          *sharedHold
	// sweeps numbers the sweeps, so that an outbox's swept tells whether
	// the previous sweep wrote it too.
	sweeps uint32
	timer  *time.Timer
}

func newWriter(stop <-chan struct{}, hold *sharedHold) *writer {
	return &writer{wake: make(chan struct{}, 1), stop: stop, hold: hold}
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
		for w.wait() && w.sweep() {
		}
	}
}

// wait waits until the next sweep may start. It returns false if the
// writer was stopped while waiting.
func (w *writer) wait() bool {
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
	w.sweeps++
	st := sweepStats{start: start, since: start.Sub(w.started)}
	for i, o := range w.batch {
		var n int
		var again bool
		w.buf, n, again = o.writeQueued(&w.nw, w.buf)
		if n > 0 {
			st.writes++
			st.frames += n
			if o.swept == w.sweeps-1 {
				st.repeats++
			}
			o.swept = w.sweeps
		}
		if again {
			w.ready(o)
		}
		w.batch[i] = nil
	}
	w.writes.Add(uint64(st.writes))
	if cap(w.buf) > 1<<20 {
		w.buf = nil // one slow client's backlog must not stay pinned
	}
	st.took = time.Since(start)
	w.started, w.next = start, start.Add(w.hold.after(st))
	return true
}
