package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// typingInterval coalesces typing indicators: at most one per user, room
// and interval is forwarded.
const typingInterval = 2 * time.Second

// handleSend publishes a message to a joined room. Its ack is queued here
// when the hub answers at once, or by stored once the message is durable.
func (c *conn) handleSend(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	if !c.rooms.has(r.Room) {
		return notMember(r.Room)
	}
	if e := c.allowSend(c.messageCost(r.Room, *r.Text, r.ClientMsgID)); e != nil {
		return e
	}
	if r.ReplyTo != 0 || r.Thread != 0 {
		if e := c.checkReply(r); e != nil {
			return e
		}
	}
	e := &hub.Event{Kind: hub.KindMessage, Room: r.Room, From: c.sess.name, Text: []byte(*r.Text), ClientMsgID: r.ClientMsgID,
		ReplyTo: r.ReplyTo, Thread: r.Thread, AlsoRoom: r.AlsoRoom}
	ms, perr := c.mentions(r.Room, *r.Text, "")
	if perr != nil {
		return perr
	}
	return c.publishMentioning(e, ack, ms)
}

// publishMessage publishes e, a message or a change to one, for a JSON
// client, and queues its ack, here or once the message is stored.
func (c *conn) publishMessage(e *hub.Event, ack *protocol.Ack) *protocol.Error {
	return c.publishMentioning(e, ack, nil)
}

// publishMentioning is publishMessage for a message or an edit that
// mentions ms, who are told once it is stored, unless it repeats one.
func (c *conn) publishMentioning(e *hub.Event, ack *protocol.Ack, ms []mentioned) *protocol.Error {
	return c.publishChanging(e, ack, ms, nil)
}

// publishChanging is publishMentioning for a change that also takes the
// mentions of gone away (see unmentions), whose users are told once it
// is stored.
func (c *conn) publishChanging(e *hub.Event, ack *protocol.Ack, ms []mentioned, gone map[string]uint64) *protocol.Error {
	e.Mentions = keptKeys(ms)
	// The send is in flight until its reply is queued: a close waits
	// for it (see closeWith), so an accepted message's ack is never
	// lost to a close queued while the store had it. A send that comes
	// after the close is not taken at all: the client gets the close
	// frame instead, and sends it again once it reconnects.
	if !c.out.beginSend() {
		return nil
	}
	e.Done = func(p hub.Published, err error) {
		c.stored(*ack, p, err)
		if err == nil && !p.Duplicate && len(ms) > 0 {
			c.srv.notifyMentions(e, p, ms)
		}
		if err == nil && !p.Duplicate && len(gone) > 0 {
			c.srv.notifyUnmentions(e, p, gone)
		}
		c.out.endSend()
	}
	p, err := c.publish(e)
	if err != nil || !p.Pending {
		defer c.out.endSend() // after the reply is queued
	}
	if errors.Is(err, hub.ErrNotMember) {
		return notMember(e.Room)
	} else if errors.Is(err, hub.ErrBacklogged) {
		return protocol.Errorf(protocol.CodeUnavailable, "the history store is behind; send it again with the same client_msg_id in a moment")
	} else if err != nil {
		return protocol.Errorf(protocol.CodeUnavailable, "the message could not be stored; send it again with the same client_msg_id")
	}
	if p.Pending {
		return nil // acknowledged by stored, once durable
	}
	ack.Seq, ack.TS, ack.Duplicate = p.Seq, protocol.Millis(p.Time), p.Duplicate
	c.send(jsonFrame(*ack))
	if !p.Duplicate && len(ms) > 0 {
		c.srv.notifyMentions(e, p, ms)
	}
	if !p.Duplicate && len(gone) > 0 {
		c.srv.notifyUnmentions(e, p, gone)
	}
	return nil
}

// handleTyping forwards a typing indicator, at most one per typingInterval.
func (c *conn) handleTyping(r *protocol.Request, _ *protocol.Ack) *protocol.Error {
	if !c.rooms.has(r.Room) {
		return notMember(r.Room)
	}
	now := time.Now()
	if a := c.act(); now.Sub(a.lastTyped[r.Room]) >= typingInterval {
		if a.lastTyped == nil {
			a.lastTyped = make(map[string]time.Time)
		}
		a.lastTyped[r.Room] = now
		_, _ = c.publish(&hub.Event{Kind: hub.KindTyping, Room: r.Room, From: c.sess.name})
	}
	return nil
}

// handleDM delivers a direct message to the connections of a present user,
// on this node and, in a cluster, on the others.
func (c *conn) handleDM(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	to, ok := c.srv.sessions.lookup(r.To)
	if !ok && c.srv.cfg.Relay == nil {
		return protocol.Errorf(protocol.CodeUnknownUser, "no user named %q is connected", r.To)
	}
	if !ok {
		to = r.To // as the sender wrote it: the user is on another node, if anywhere
	}
	dm := protocol.DM{
		Type: protocol.TypeDM, ID: c.srv.nextDM.Add(1), From: c.sess.name, To: to,
		TS: protocol.Millis(time.Now()), Text: *r.Text, ClientMsgID: r.ClientMsgID,
	}
	frame := jsonFrame(dm)
	if e := c.allowSend(len(frame)); e != nil {
		return e
	}
	n, found := c.srv.sessions.deliverDM(c, to, frame)
	if c.srv.cfg.Relay != nil {
		rn, rfound, e := c.relayDM(to, &dm)
		if e != nil {
			return e
		}
		if !found && rfound {
			// deliverDM found no recipient here, so the sender's other
			// devices here have not had it either.
			c.srv.sessions.deliverFrame(c.sess.key, frame, c)
		}
		n, found = n+rn, found || rfound
	}
	switch {
	case !found:
		return protocol.Errorf(protocol.CodeUnknownUser, "no user named %q is connected", r.To)
	case n == 0 && !strings.EqualFold(to, c.sess.name):
		return protocol.Errorf(protocol.CodeUnreachable, "%s has no connection that receives direct messages (plain-text clients do not)", to)
	}
	ack.TS = protocol.Millis(time.Now())
	return nil
}

// relayDM hands a direct message to the recipient's connections on the
// other nodes, and to the sender's.
func (c *conn) relayDM(to string, dm *protocol.DM) (int, bool, *protocol.Error) {
	notice, err := json.Marshal(userNotice{Kind: noticeDM, Event: protocol.AppendJSON(nil, dm)})
	if err != nil {
		return 0, false, protocol.Errorf(protocol.CodeUnavailable, "the direct message could not be sent")
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	key := strings.ToLower(to)
	n, found, err := c.srv.cfg.Relay.ToUser(ctx, key, notice)
	if err != nil {
		c.srv.log.Warn("relay direct message", "err", err)
		return 0, false, protocol.Errorf(protocol.CodeUnavailable, "the other nodes could not be reached; try again")
	}
	if key != c.sess.key {
		c.srv.cfg.Relay.TellUser(c.sess.key, notice)
	}
	return n, found, nil
}

// publish publishes e from c. Its store call's context is made only when
// the hub reads the store for it: one for every message was a timer and an
// entry in the server's base context, whose lock every sender's message
// then took in turn, and a message without a client_msg_id (every plain
// client's) needs none.
func (c *conn) publish(e *hub.Event) (hub.Published, error) {
	ctx := c.srv.base
	if c.srv.hub.PublishReadsStore(e) {
		var cancel context.CancelFunc
		ctx, cancel = c.storeContext()
		defer cancel()
	}
	p, err := c.srv.hub.Publish(ctx, e, c)
	if e.Kind == hub.KindMessage && err == nil && !p.Duplicate && !p.Pending {
		c.srv.countMessage(p)
	}
	return p, err
}

func (s *Server) countMessage(p hub.Published) {
	s.stats.messagesIn.Add(1)
	s.stats.deliveries.Add(uint64(p.Delivered))
}
