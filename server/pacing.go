package server

// A client's own requests are paced by its reading. Each reply is bounded
// by ReplyBytes, but a client may send many requests without reading
// between them (the browser client joins all its rooms at once after a
// reconnect), and their replies together could still fill its queue. So,
// before carrying out a request, the reader waits until what is queued for
// the client leaves room for a reply beside the live traffic. The wait
// only holds up the client's own requests; its messages keep arriving. A
// client that stops reading altogether is still caught as before, by the
// write timeout or by live traffic overflowing its queue.

// awaitRoom waits until at most QueueBytes - 2×ReplyBytes are queued for
// c, or c is closing, or the server stops.
func (c *conn) awaitRoom() {
	limit := max(c.srv.cfg.QueueBytes-2*c.srv.cfg.ReplyBytes, 0)
	for {
		c.mu.Lock()
		if c.queued <= limit || c.final || c.corked {
			c.awaiting = false
			c.mu.Unlock()
			return
		}
		c.awaiting = true
		c.mu.Unlock()
		select {
		case <-c.drained:
		case <-c.srv.stop:
			return
		}
	}
}

// wakeReaderLocked tells a reader waiting in awaitRoom to look again; the
// queue was emptied or the connection is ending. c.mu is held.
func (c *conn) wakeReaderLocked() {
	if !c.awaiting {
		return
	}
	c.awaiting = false
	select {
	case c.drained <- struct{}{}:
	default:
	}
}
