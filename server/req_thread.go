package server

import (
	"context"
	"slices"

	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// checkReply refuses a send whose reply_to or thread names a message that
// cannot take the reply: one that is not a chat message of the room, is
// deleted (though a thread its root had before goes on), or is outside what the reply may answer (threads are one level
// deep; a reply in the room answers what the room shows, a reply in a
// thread what that thread shows). A retry of a reply already stored (same
// client_msg_id) passes, for the hub to answer it as a duplicate, though
// its target may be deleted by now.
func (c *conn) checkReply(r *protocol.Request) *protocol.Error {
	if c.srv.cfg.Store == nil {
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no history, so messages cannot be replied to (start chatd with -store)")
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	e := c.checkReplyTargets(ctx, r)
	if e == nil || r.ClientMsgID == "" || e.Code == protocol.CodeUnavailable {
		return e
	}
	prev, ok, err := c.srv.cfg.Store.FindClientMsg(ctx, r.Room, c.sess.name, r.ClientMsgID)
	if err == nil && ok && prev.Change == store.ChangeNone && prev.ReplyTo == r.ReplyTo && prev.Thread == r.Thread {
		return nil
	}
	return e
}

func (c *conn) checkReplyTargets(ctx context.Context, r *protocol.Request) *protocol.Error {
	if r.Thread != 0 {
		root, e := c.replyTarget(ctx, r.Room, r.Thread, true)
		if e != nil {
			return e
		}
		if root.Thread != 0 {
			return protocol.Errorf(protocol.CodeBadThread, "message %d is a reply in the thread of message %d, and threads are one level deep: reply in that thread", r.Thread, root.Thread)
		}
	}
	if r.ReplyTo == 0 || r.ReplyTo == r.Thread {
		return nil
	}
	m, e := c.replyTarget(ctx, r.Room, r.ReplyTo, false)
	switch {
	case e != nil:
		return e
	case r.Thread != 0 && m.Thread != r.Thread:
		return protocol.Errorf(protocol.CodeBadThread, "message %d is not in the thread of message %d: a reply in a thread answers its root or its replies", r.ReplyTo, r.Thread)
	case r.Thread == 0 && m.Thread != 0 && !m.AlsoRoom:
		return protocol.Errorf(protocol.CodeBadThread, "message %d is in the thread of message %d, not in the room: reply in that thread", r.ReplyTo, m.Thread)
	}
	return nil
}

// replyTarget reads room's chat message seq, which a reply names. A
// deleted message is refused, but for a root whose thread has replies
// when root is set: deleting a root keeps its thread, and the thread may
// go on.
func (c *conn) replyTarget(ctx context.Context, room string, seq uint64, root bool) (store.Message, *protocol.Error) {
	msgs, err := c.srv.cfg.Store.After(ctx, room, seq-1, 1)
	if err != nil {
		c.srv.log.Warn("read message replied to", "room", room, "seq", seq, "err", err)
		return store.Message{}, protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	if len(msgs) == 0 || msgs[0].Seq != seq || msgs[0].Change != store.ChangeNone ||
		msgs[0].Deleted && (!root || msgs[0].Summary.Replies == 0) {
		return store.Message{}, protocol.Errorf(protocol.CodeNotFound, "room %q has no message %d to reply to (never sent, deleted, a change, or removed by retention)", room, seq)
	}
	return msgs[0], nil
}

// handleThreadHistory answers a history request with thread: a page of
// the thread's replies, before or after a seq like a room's history.
func (c *conn) handleThreadHistory(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	st := c.srv.cfg.Store
	limit := c.srv.cfg.HistoryLimit
	if r.Limit > 0 {
		limit = min(r.Limit, limit)
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	// One more than the page tells whether there is more.
	var msgs []store.Message
	var err error
	forward := r.After != nil
	if forward {
		msgs, err = st.ThreadAfter(ctx, r.Room, r.Thread, *r.After, limit+1)
	} else {
		msgs, err = st.ThreadBefore(ctx, r.Room, r.Thread, r.Before, limit+1)
	}
	if err != nil {
		c.srv.log.Warn("read thread", "room", r.Room, "thread", r.Thread, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	if len(msgs) > limit {
		ack.More = true
		if forward {
			msgs = msgs[:limit]
		} else {
			msgs = slices.Delete(msgs, 0, 1)
		}
	}
	var cut bool
	ack.Messages, cut = c.srv.replyPage(msgs, !forward)
	ack.More = ack.More || cut
	return nil
}

// setReplyFields sets what m answers, its thread and its thread's
// summary on pm.
func setReplyFields(pm *protocol.Message, m *store.Message) {
	pm.ReplyTo, pm.Thread, pm.AlsoRoom = m.ReplyTo, m.Thread, m.AlsoRoom
	if s := m.Summary; s.Replies > 0 {
		pm.Replies, pm.LastReplySeq, pm.LastReplyTS = s.Replies, s.LastReply, protocol.Millis(s.LastReplyTime)
	}
}
