package hub

import (
	"context"
	"errors"
)

// ErrBacklogged is returned by Publish and Post for a message whose room's
// journal already has MaxBacklog messages waiting to be stored: the store
// is slower than the senders. Refusing there, rather than queueing, keeps
// the memory waiting for a slow disk bounded. Nothing was stored or
// numbered; the sender may send again (with the same ClientMsgID) once
// WaitBacklog returns.
var ErrBacklogged = errors.New("the history store is behind")

// Backlogged reports whether a message to room would be refused with
// ErrBacklogged now, so that a sender that would wait (WaitBacklog) can
// check first, without making a context to wait with. Always false on a
// hub that stores nothing.
func (h *Hub) Backlogged(room string) bool {
	return h.cfg.Journals != nil && h.cfg.Journals.Backlog(room) >= h.cfg.MaxBacklog
}

// WaitBacklog waits until room's journal has room for a message again, or
// ctx ends. It wakes when the journal takes a batch off its queue, not on
// a timer. Other senders may fill the queue meanwhile, so a Publish after
// it can still return ErrBacklogged.
func (h *Hub) WaitBacklog(ctx context.Context, room string) error {
	if h.cfg.Journals == nil {
		return nil
	}
	return h.cfg.Journals.WaitBelow(ctx, room, h.cfg.MaxBacklog)
}
