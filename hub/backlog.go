package hub

// Backlogged reports whether room's journal has MaxBacklog messages or
// more waiting to be stored: the store is slower than the senders. Callers
// hold new messages back (outside their locks) or refuse them while it
// holds, so that a slow disk bounds the memory waiting for it instead of
// letting the queue grow. Always false on a hub that stores nothing.
func (h *Hub) Backlogged(room string) bool {
	return h.cfg.Journals != nil && h.cfg.Journals.Backlog(room) >= h.cfg.MaxBacklog
}
