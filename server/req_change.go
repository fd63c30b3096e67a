package server

import (
	"context"
	"errors"
	"strings"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// handleEdit replaces the text of one of the user's own messages.
func (c *conn) handleEdit(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	return c.handleChange(r, ack, store.ChangeEdit, *r.Text)
}

// handleDelete deletes one of the user's own messages or, for a private
// room's owner, anyone's message in the room.
func (c *conn) handleDelete(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	return c.handleChange(r, ack, store.ChangeDelete, "")
}

// handleChange checks that the user may make the change and publishes it
// as a message of the room, numbered, stored and delivered like one: the
// store applies it to its target in the same transaction.
func (c *conn) handleChange(r *protocol.Request, ack *protocol.Ack, change store.Change, text string) *protocol.Error {
	if !c.rooms.has(r.Room) {
		return notMember(r.Room)
	}
	if c.srv.cfg.Store == nil {
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no history, so messages cannot be changed (start chatd with -store)")
	}
	if e := c.allowSend(c.messageCost(r.Room, text, r.ClientMsgID)); e != nil {
		return e
	}
	ctx, cancel := c.storeContext()
	e := c.mayChange(ctx, r, change)
	cancel()
	if e != nil {
		return e
	}
	var ms []mentioned
	if change == store.ChangeEdit {
		if ms, e = c.editMentions(r.Room, r.Target, text); e != nil {
			return e
		}
	}
	gone, e := c.unmentions(r.Room, r.Target, change, text)
	if e != nil {
		return e
	}
	ev := &hub.Event{Kind: hub.KindMessage, Room: r.Room, From: c.sess.name, Text: []byte(text),
		ClientMsgID: r.ClientMsgID, Change: change, Target: r.Target}
	if change == store.ChangeEdit {
		ev.Unmentions = unmentionKeys(gone)
	}
	return c.publishChanging(ev, ack, ms, gone)
}

// mayChange refuses a change to a message that is not a chat message of
// the room, is deleted, or is not the user's to change. A retry of a
// change already stored (same client_msg_id) passes, for the hub to answer
// it as a duplicate, though its target may be deleted by now.
func (c *conn) mayChange(ctx context.Context, r *protocol.Request, change store.Change) *protocol.Error {
	e := c.checkTarget(ctx, r, change)
	if e == nil || r.ClientMsgID == "" || e.Code == protocol.CodeUnavailable {
		return e
	}
	prev, ok, err := c.srv.cfg.Store.FindClientMsg(ctx, r.Room, c.sess.name, r.ClientMsgID)
	if err == nil && ok && prev.Change == change && prev.Target == r.Target {
		return nil
	}
	return e
}

func (c *conn) checkTarget(ctx context.Context, r *protocol.Request, change store.Change) *protocol.Error {
	msgs, err := c.srv.cfg.Store.After(ctx, r.Room, r.Target-1, 1)
	if err != nil {
		c.srv.log.Warn("read message to change", "room", r.Room, "seq", r.Target, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	if len(msgs) == 0 || msgs[0].Seq != r.Target || msgs[0].Change != store.ChangeNone || msgs[0].Deleted {
		return protocol.Errorf(protocol.CodeNotFound, "room %q has no message %d to change (never sent, deleted, or removed by retention)", r.Room, r.Target)
	}
	if strings.ToLower(msgs[0].From) == c.sess.key {
		return nil
	}
	if change == store.ChangeDelete {
		owner, err := c.ownsPrivate(ctx, r.Room)
		if err != nil {
			c.srv.log.Warn("look up room", "room", r.Room, "err", err)
			return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
		}
		if owner {
			return nil
		}
		return protocol.Errorf(protocol.CodeForbidden, "only its author or the owner of private room %q may delete message %d", r.Room, r.Target)
	}
	return protocol.Errorf(protocol.CodeForbidden, "only its author may edit message %d", r.Target)
}

// ownsPrivate reports whether the user is the owner of room, a private
// room.
func (c *conn) ownsPrivate(ctx context.Context, room string) (bool, error) {
	accts, id := c.srv.cfg.Accounts, c.identity()
	if accts == nil || !id.signedIn() {
		return false, nil
	}
	rm, err := accts.Room(ctx, room)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return rm.Private && rm.Owner == id.key(), nil
}
