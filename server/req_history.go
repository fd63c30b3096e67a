package server

import (
	"slices"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// stored runs on the journal's goroutine when a JSON client's message is
// durable (and already delivered), or has failed: it sends the ack or the
// error. It must not block, and c.send does not.
func (c *conn) stored(ack protocol.Ack, p hub.Published, err error) {
	if err != nil {
		c.srv.stats.requestError(protocol.CodeUnavailable)
		c.send(jsonFrame(protocol.ErrorEvent{Type: protocol.TypeError, ID: ack.ID, Code: protocol.CodeUnavailable,
			Message: "the message could not be stored; send it again with the same client_msg_id"}))
		c.srv.log.Warn("store message", "room", ack.Room, "err", err)
		return
	}
	if !p.Duplicate {
		c.srv.countMessage(p)
	}
	ack.Seq, ack.TS, ack.Duplicate = p.Seq, protocol.Millis(p.Time), p.Duplicate
	c.send(jsonFrame(ack))
}

// handleHistory answers a history request: the newest messages before a
// sequence number (scrollback), or those after one (catching up).
func (c *conn) handleHistory(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	if e := c.checkEnter(r.Room); e != nil {
		return e
	}
	st := c.srv.cfg.Store
	if st == nil {
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no history (start chatd with -store)")
	}
	if r.Thread != 0 {
		return c.handleThreadHistory(r, ack)
	}
	limit := c.srv.cfg.HistoryLimit
	if r.Limit > 0 {
		limit = min(r.Limit, limit)
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	var msgs []store.Message
	var err error
	forward := r.After != nil
	if r.Around > 0 {
		msgs, err = around(ctx, st, r.Room, r.Around, limit)
	} else if forward {
		msgs, err = st.After(ctx, r.Room, *r.After, limit)
	} else {
		msgs, err = st.Before(ctx, r.Room, r.Before, limit)
	}
	if err == nil {
		var oldest uint64
		if oldest, err = st.Oldest(ctx, r.Room); err == nil && len(msgs) > 0 {
			ack.More = !forward && msgs[0].Seq > oldest || forward && len(msgs) == limit
		}
	}
	if err != nil {
		c.srv.log.Warn("read history", "room", r.Room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	var cut bool
	ack.Messages, cut = c.srv.replyPage(msgs, !forward)
	ack.More = ack.More || cut
	return nil
}

// replyPage converts msgs for a history reply of at most ReplyBytes (and
// at least one message). Scrolling back (older) keeps the newest messages,
// next to what the client has; catching up keeps the oldest. cut reports
// that some were left out, for the client to page on.
func (s *Server) replyPage(msgs []store.Message, older bool) (page []protocol.Message, cut bool) {
	page = make([]protocol.Message, 0, len(msgs))
	size := 0
	for i := range msgs {
		m := &msgs[i]
		if older {
			m = &msgs[len(msgs)-1-i]
		}
		pm := wireMessage(m)
		if size += protocol.MessageSize(&pm); size > s.cfg.ReplyBytes && len(page) > 0 {
			cut = true
			break
		}
		page = append(page, pm)
	}
	if older {
		slices.Reverse(page)
	}
	return page, cut
}
