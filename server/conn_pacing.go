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
	c.out.waitBelow(max(c.srv.cfg.QueueBytes-2*c.srv.cfg.ReplyBytes, 0), c.srv.stop)
}

// waitBelow waits until at most limit bytes are queued, or the outbox is
// closing or corked, or stop is closed.
func (o *outbox) waitBelow(limit int, stop <-chan struct{}) {
	for {
		o.mu.Lock()
		if o.queued <= limit || o.final || o.corked {
			o.awaiting = false
			o.mu.Unlock()
			return
		}
		o.awaiting = true
		if o.drained == nil {
			o.drained = make(chan struct{}, 1)
		}
		o.mu.Unlock()
		select {
		case <-o.drained:
		case <-stop:
			return
		}
	}
}

// wakeReaderLocked tells a reader waiting in waitBelow to look again; the
// queue was emptied or the connection is ending. o.mu is held.
func (o *outbox) wakeReaderLocked() {
	if !o.awaiting {
		return
	}
	o.awaiting = false
	select {
	case o.drained <- struct{}{}:
	default:
	}
}
