package hub

import (
	"context"
	"errors"
)

// errRoomFreed tells Post that the room it holds was freed meanwhile.
var errRoomFreed = errors.New("room freed")

// Post publishes a message on behalf of the server, such as one posted
// through an HTTP API, to e.Room whether or not the room has members: an
// empty room lives just long enough to number, store and deliver it. Like
// Publish it returns Pending on a durable hub, with e.Done called once the
// message is stored; ctx bounds its store reads. It recognises a repeated ClientMsgID, and refuses a
// message with ErrBacklogged, the same way.
func (h *Hub) Post(ctx context.Context, e *Event) (Published, error) {
	if h.Backlogged(e.Room) {
		return Published{}, ErrBacklogged
	}
	if p, ok, err := h.findStored(ctx, e); ok || err != nil {
		return p, err
	}
	for {
		r, err := h.roomFor(ctx, e.Room)
		if err != nil {
			return Published{}, err
		}
		p, err := r.publish(h, e, nil)
		if errors.Is(err, errRoomFreed) {
			continue // freed since roomFor returned it; take the new one
		}
		r.mu.Lock()
		empty := r.emptyLocked()
		r.mu.Unlock()
		if empty {
			h.free(r)
		}
		return p, err
	}
}
