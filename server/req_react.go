package server

import (
	"context"
	"slices"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// handleReact adds the user's reaction to a message of a room they are in.
func (c *conn) handleReact(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	return c.handleReaction(r, ack, store.ChangeReact)
}

// handleUnreact removes the user's reaction from a message.
func (c *conn) handleUnreact(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	return c.handleReaction(r, ack, store.ChangeUnreact)
}

// handleReaction publishes a reaction as a message of the room, numbered,
// stored and delivered like one: the store adds it to, or removes it from,
// its target in the same transaction, so that history, replays and since
// converge to what online clients saw.
func (c *conn) handleReaction(r *protocol.Request, ack *protocol.Ack, change store.Change) *protocol.Error {
	if !c.rooms.has(r.Room) {
		return notMember(r.Room)
	}
	if c.srv.cfg.Store == nil {
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no history, so messages cannot have reactions (start chatd with -store)")
	}
	if e := c.allowSend(c.messageCost(r.Room, r.Emoji, r.ClientMsgID)); e != nil {
		return e
	}
	ctx, cancel := c.storeContext()
	e := c.checkReaction(ctx, r, change)
	if e != nil && r.ClientMsgID != "" && e.Code != protocol.CodeUnavailable {
		// A retry of a reaction already stored passes, for the hub to
		// answer it as a duplicate, though the limits may be reached by
		// now.
		prev, ok, err := c.srv.cfg.Store.FindClientMsg(ctx, r.Room, c.sess.name, r.ClientMsgID)
		if err == nil && ok && prev.Change == change && prev.Target == r.Target && prev.Text == r.Emoji {
			e = nil
		}
	}
	cancel()
	if e != nil {
		return e
	}
	return c.publishMessage(&hub.Event{Kind: hub.KindMessage, Room: r.Room, From: c.sess.name, Text: []byte(r.Emoji),
		ClientMsgID: r.ClientMsgID, Change: change, Target: r.Target}, ack)
}

// checkReaction refuses a reaction to a message that is not a chat message
// of the room or is deleted, and a new reaction beyond the limits. Two
// reactions checked at once may both pass and go a little beyond them:
// the store applies every reaction it stores, so that all readers agree.
func (c *conn) checkReaction(ctx context.Context, r *protocol.Request, change store.Change) *protocol.Error {
	msgs, err := c.srv.cfg.Store.After(ctx, r.Room, r.Target-1, 1)
	if err != nil {
		c.srv.log.Warn("read message to react to", "room", r.Room, "seq", r.Target, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	if len(msgs) == 0 || msgs[0].Seq != r.Target || msgs[0].Change != store.ChangeNone || msgs[0].Deleted {
		return protocol.Errorf(protocol.CodeNotFound, "room %q has no message %d to react to (never sent, deleted, or removed by retention)", r.Room, r.Target)
	}
	if change != store.ChangeReact {
		return nil
	}
	// The message lists only the first users of each emoji; the user's own
	// reactions are read apart, so that the limits hold for every user.
	given, err := c.srv.cfg.Store.ReactionsBy(ctx, r.Room, r.Target, c.sess.name)
	if err != nil {
		c.srv.log.Warn("read reactions to check a react", "room", r.Room, "seq", r.Target, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	if slices.Contains(given, r.Emoji) {
		return nil // already given: changes nothing
	}
	mine := len(given)
	switch {
	case mine >= protocol.MaxUserReactions:
		return protocol.Errorf(protocol.CodeReactionLimit, "one user may give at most %d reactions to a message", protocol.MaxUserReactions)
	case len(msgs[0].Reactions) >= protocol.MaxReactionEmojis &&
		!slices.ContainsFunc(msgs[0].Reactions, func(rc store.Reaction) bool { return rc.Emoji == r.Emoji }):
		return protocol.Errorf(protocol.CodeReactionLimit, "message %d has %d different reactions, the most it may have; add to one of them", r.Target, protocol.MaxReactionEmojis)
	}
	return nil
}
