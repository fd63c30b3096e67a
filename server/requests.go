package server

import (
	"errors"
	"time"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// maxStrikes is how many refused requests in a row a client may send
// before it is closed with 1008. rate_limited is flow control, not
// misbehaviour: it neither counts nor resets the count.
const maxStrikes = 20

// typingInterval coalesces typing indicators: at most one per user, room
// and interval is forwarded.
const typingInterval = 2 * time.Second

// handleText handles one complete text message from the client.
func (c *conn) handleText(text []byte) {
	if c.format == formatPlain {
		c.handlePlain(text)
		return
	}
	c.awaitRoom()
	c.handling.Lock()
	defer c.handling.Unlock()
	req, perr := protocol.DecodeRequest(text)
	if perr == nil {
		perr = c.handleRequest(&req)
	}
	if perr == nil {
		c.strikes = 0
		return
	}
	c.send(jsonFrame(protocol.ErrorEvent{Type: protocol.TypeError, ID: req.ID, Code: perr.Code, Message: perr.Message, RetryAfterMS: perr.RetryAfterMS}))
	c.srv.stats.requestError(perr.Code)
	if perr.Code == protocol.CodeRateLimited {
		return
	}
	c.strikes++
	if c.strikes >= maxStrikes {
		c.closeWith(closeFrame(protocol.ClosePolicyViolation, "too many refused requests in a row"), false)
	}
}

// handlePlain publishes a plain client's text to its room. A plain client
// cannot be told "rate limited", so it is slowed down instead: the reader
// waits for the limiter, and TCP pushes back on the client.
func (c *conn) handlePlain(text []byte) {
	if c.limiter != nil {
		if d := c.limiter.Reserve().Delay(); d > 0 {
			time.Sleep(d)
		}
	}
	if c.byteLimiter != nil {
		if d := c.byteLimiter.ReserveN(time.Now(), c.messageCost(c.plainRoom, string(text), "")).Delay(); d > 0 {
			time.Sleep(d)
		}
	}
	if !c.srv.waitBacklog(c.plainRoom) {
		c.closeWith(closeStoreBehind, false)
		return
	}
	c.handling.Lock()
	defer c.handling.Unlock()
	for room := range c.rooms {
		_, _ = c.publish(&hub.Event{Kind: hub.KindMessage, Room: room, From: c.sess.name, Text: text,
			Done: func(p hub.Published, err error) {
				if err != nil {
					// A plain client cannot be told. The message took no
					// sequence number, so the room's order has no hole.
					c.srv.log.Warn("store message", "room", room, "err", err)
					return
				}
				c.srv.countMessage(p)
			}})
	}
}

// backlogWait is how long a plain client's message waits for a journal
// that is behind before the client is told to come back later.
const backlogWait = 5 * time.Second

// waitBacklog waits, polling, until room's journal is no longer behind;
// false if it still is after backlogWait or the server is stopping.
func (s *Server) waitBacklog(room string) bool {
	deadline := time.Now().Add(backlogWait)
	for s.hub.Backlogged(room) {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-s.stop:
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

func (c *conn) publish(e *hub.Event) (hub.Published, error) {
	p, err := c.srv.hub.Publish(e, c)
	if e.Kind == hub.KindMessage && err == nil && !p.Duplicate && !p.Pending {
		c.srv.countMessage(p)
	}
	return p, err
}

func (s *Server) countMessage(p hub.Published) {
	s.stats.messagesIn.Add(1)
	s.stats.deliveries.Add(uint64(p.Delivered))
}

// handleRequest carries out one valid JSON request and queues its ack; a
// refusal is returned for the caller to answer.
func (c *conn) handleRequest(r *protocol.Request) *protocol.Error {
	ack := protocol.Ack{Type: protocol.TypeAck, ID: r.ID, Request: r.Type, Room: r.Room}
	switch r.Type {
	case protocol.TypeJoin:
		if _, ok := c.rooms[r.Room]; !ok {
			if len(c.rooms) >= c.srv.cfg.MaxRooms {
				return protocol.Errorf(protocol.CodeRoomLimit, "a connection may be in at most %d rooms", c.srv.cfg.MaxRooms)
			}
			if e := c.checkEnter(r.Room); e != nil {
				return e
			}
			res, err := c.joinReplay(r.Room, c.replayOf(r))
			if err != nil {
				return protocol.Errorf(protocol.CodeUnavailable, "join %q: the history store failed; try again", r.Room)
			}
			ack.Replayed, ack.Last = &res.Replayed, &res.Last
			ack.Missing, ack.More = res.Missing, res.More
		} else {
			// Joined already: nothing is replayed, but the ack still says
			// where the room stands.
			replayed, last := 0, c.srv.hub.Last(r.Room)
			ack.Replayed, ack.Last = &replayed, &last
		}
		ack.Members = c.srv.hub.Members(r.Room)
		read := c.srv.sessions.readOf(c.sess, r.Room)
		ack.Read = &read

	case protocol.TypeRead:
		if _, ok := c.rooms[r.Room]; !ok {
			return notMember(r.Room)
		}
		if e := c.persistRead(r.Room, r.Seq); e != nil {
			return e
		}
		ack.Seq = c.srv.sessions.markRead(c.sess, c, r.Room, r.Seq)

	case protocol.TypeHistory:
		if e := c.checkEnter(r.Room); e != nil {
			return e
		}
		if e := c.history(r, &ack); e != nil {
			return e
		}

	case protocol.TypeLeave:
		if _, ok := c.rooms[r.Room]; !ok {
			return notMember(r.Room)
		}
		c.leave(r.Room)

	case protocol.TypeSend:
		if _, ok := c.rooms[r.Room]; !ok {
			return notMember(r.Room)
		}
		if e := c.allowSend(c.messageCost(r.Room, *r.Text, r.ClientMsgID)); e != nil {
			return e
		}
		if c.srv.hub.Backlogged(r.Room) {
			return protocol.Errorf(protocol.CodeUnavailable, "the history store is behind; send it again with the same client_msg_id in a moment")
		}
		e := &hub.Event{Kind: hub.KindMessage, Room: r.Room, From: c.sess.name, Text: []byte(*r.Text), ClientMsgID: r.ClientMsgID}
		// The send is in flight until its reply is queued: a close waits
		// for it (see closeWith), so an accepted message's ack is never
		// lost to a close queued while the store had it.
		c.beginSend()
		e.Done = func(p hub.Published, err error) {
			c.stored(ack, p, err)
			c.endSend()
		}
		p, err := c.publish(e)
		if err != nil || !p.Pending {
			defer c.endSend() // after the reply is queued
		}
		if errors.Is(err, hub.ErrNotMember) {
			return notMember(r.Room)
		} else if err != nil {
			return protocol.Errorf(protocol.CodeUnavailable, "the message could not be stored; send it again with the same client_msg_id")
		}
		if p.Pending {
			return nil // acknowledged by stored, once durable
		}
		ack.Seq, ack.TS, ack.Duplicate = p.Seq, protocol.Millis(p.Time), p.Duplicate

	case protocol.TypeRooms:
		if e := c.listRooms(r.Cursor, &ack); e != nil {
			return e
		}

	case protocol.TypeWho:
		if e := c.checkEnter(r.Room); e != nil {
			return e
		}
		ack.Members = c.srv.hub.Members(r.Room)
		if len(ack.Members) == 0 {
			return protocol.Errorf(protocol.CodeUnknownRoom, "nobody is in room %q", r.Room)
		}

	case protocol.TypeTyping:
		if _, ok := c.rooms[r.Room]; !ok {
			return notMember(r.Room)
		}
		now := time.Now()
		if now.Sub(c.lastTyped[r.Room]) >= typingInterval {
			if c.lastTyped == nil {
				c.lastTyped = make(map[string]time.Time)
			}
			c.lastTyped[r.Room] = now
			_, _ = c.publish(&hub.Event{Kind: hub.KindTyping, Room: r.Room, From: c.sess.name})
		}

	case protocol.TypeDM:
		if e := c.sendDM(r); e != nil {
			return e
		}
		ack.TS = protocol.Millis(time.Now())

	case protocol.TypeAuth:
		expires, e := c.reauth(r.Token)
		if e != nil {
			return e
		}
		ack.Expires = protocol.Millis(expires)

	case protocol.TypeCreate:
		if e := c.createRoom(r); e != nil {
			return e
		}
		ack.Private = r.Private

	case protocol.TypeInvite:
		if e := c.invite(r); e != nil {
			return e
		}

	case protocol.TypeRemove:
		if e := c.remove(r); e != nil {
			return e
		}

	case protocol.TypeMembers:
		if e := c.members(r, &ack); e != nil {
			return e
		}
	}
	c.send(jsonFrame(ack))
	return nil
}

func (c *conn) sendDM(r *protocol.Request) *protocol.Error {
	to, ok := c.srv.sessions.lookup(r.To)
	if !ok {
		return protocol.Errorf(protocol.CodeUnknownUser, "no user named %q is connected", r.To)
	}
	frame := jsonFrame(protocol.DM{
		Type: protocol.TypeDM, ID: c.srv.nextDM.Add(1), From: c.sess.name, To: to,
		TS: protocol.Millis(time.Now()), Text: *r.Text, ClientMsgID: r.ClientMsgID,
	})
	if e := c.allowSend(len(frame)); e != nil {
		return e
	}
	n, found := c.srv.sessions.deliverDM(c, to, frame)
	switch {
	case !found:
		return protocol.Errorf(protocol.CodeUnknownUser, "no user named %q is connected", r.To)
	case n == 0 && to != c.sess.name:
		return protocol.Errorf(protocol.CodeUnreachable, "%s has no connection that receives direct messages (plain-text clients do not)", to)
	}
	return nil
}

// joinReplay joins room, first delivering the history asked for.
func (c *conn) joinReplay(room string, want hub.Replay) (hub.JoinResult, error) {
	res, err := c.srv.hub.JoinReplay(room, c, want)
	if err != nil {
		return res, err
	}
	c.rooms[room] = struct{}{}
	return res, nil
}

// replayOf is the history a join asks for: recovery after since, the
// newest history messages, or by default the server's JoinHistory.
func (c *conn) replayOf(r *protocol.Request) hub.Replay {
	switch {
	case r.Since != nil:
		return hub.Replay{Recover: true, After: *r.Since}
	case r.History != nil:
		return hub.Replay{Last: *r.History}
	}
	return hub.Replay{Last: c.srv.cfg.JoinHistory}
}

func (c *conn) leave(room string) {
	delete(c.rooms, room)
	delete(c.lastTyped, room)
	c.srv.hub.Leave(room, c)
}

func notMember(room string) *protocol.Error {
	return protocol.Errorf(protocol.CodeNotMember, "join room %q first", room)
}
