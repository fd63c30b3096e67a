package hub

import (
	"time"

	"github.com/chatd/chatd/store"
)

// reorderWait is how long a room holds relayed messages that arrived
// before one they follow, waiting for it, before it reads the gap from the
// store. Notices from one node arrive in order, but two nodes' notices
// for one room may cross on the way by a fraction of a millisecond; a
// notice that is lost costs this much more latency.
const reorderWait = 20 * time.Millisecond

// reorderLimit bounds the relayed messages one room holds; one more is
// not held, and the gap is read from the store at once.
const reorderLimit = 64

// reorder holds a room's relayed messages that are ahead of its cursor, so
// that a notice overtaken by the next one costs no store read. Its fields
// are guarded by the room's lock.
type reorder struct {
	held  map[uint64]store.Message // by seq, all above the cursor's next
	timer *time.Timer              // fills the gap after reorderWait
	armed bool                     // the timer is set and has not fired
}

// holdLocked keeps m, which is beyond the cursor's next number, for
// reorderWait, and reports whether it did: not when the room already
// holds reorderLimit messages, or is dead.
func (r *room) holdLocked(h *Hub, m store.Message) bool {
	if r.dead || len(r.reorder.held) >= reorderLimit {
		return false
	}
	if r.reorder.held == nil {
		r.reorder.held = make(map[uint64]store.Message)
	}
	r.reorder.held[m.Seq] = m
	if !r.reorder.armed {
		r.reorder.armed = true
		if r.reorder.timer == nil {
			r.reorder.timer = time.AfterFunc(reorderWait, func() { h.holdExpired(r) })
		} else {
			r.reorder.timer.Reset(reorderWait)
		}
	}
	return true
}

// holdExpired runs on the timer's goroutine: the messages before those
// held did not arrive in time, and are read from the store.
func (h *Hub) holdExpired(r *room) {
	r.mu.Lock()
	r.reorder.armed = false
	r.mu.Unlock()
	h.fill(r)
}

// releaseHeldLocked delivers the held messages that follow the cursor,
// after the cursor moved, and forgets those it passed; with none left
// held, the timer stops.
func (r *room) releaseHeldLocked(h *Hub) {
	if len(r.reorder.held) == 0 {
		return
	}
	for {
		m, ok := r.reorder.held[r.fanned+1]
		if !ok {
			break
		}
		delete(r.reorder.held, m.Seq)
		r.fanoutLocked(h, storedEvent(&m), nil)
		r.fanned = m.Seq
	}
	for seq := range r.reorder.held {
		if seq <= r.fanned {
			delete(r.reorder.held, seq)
		}
	}
	if len(r.reorder.held) == 0 {
		r.stopHoldLocked()
	}
}

// stopHoldLocked forgets what r holds and stops its timer.
func (r *room) stopHoldLocked() {
	clear(r.reorder.held)
	if r.reorder.armed {
		r.reorder.timer.Stop()
		r.reorder.armed = false
	}
}
