package server

import (
	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// handleJoin joins a room, replaying the history asked for. Joining a room
// joined already replays nothing, but the ack still says where the room
// stands.
func (c *conn) handleJoin(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	if !c.rooms.has(r.Room) {
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
		replayed, last := 0, c.srv.hub.Last(r.Room)
		ack.Replayed, ack.Last = &replayed, &last
	}
	ack.Members = c.srv.hub.Members(r.Room)
	read := c.srv.sessions.readOf(c.sess, r.Room)
	ack.Read = &read
	return nil
}

// handleLeave leaves a room.
func (c *conn) handleLeave(r *protocol.Request, _ *protocol.Ack) *protocol.Error {
	if !c.rooms.has(r.Room) {
		return notMember(r.Room)
	}
	c.leave(r.Room)
	return nil
}

// handleWho lists who is in a room.
func (c *conn) handleWho(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	if e := c.checkEnter(r.Room); e != nil {
		return e
	}
	ack.Members = c.srv.hub.Members(r.Room)
	if len(ack.Members) == 0 {
		return protocol.Errorf(protocol.CodeUnknownRoom, "nobody is in room %q", r.Room)
	}
	return nil
}

// handleRead moves the user's read position in a joined room.
func (c *conn) handleRead(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	if !c.rooms.has(r.Room) {
		return notMember(r.Room)
	}
	if e := c.persistRead(r.Room, r.Seq); e != nil {
		return e
	}
	ack.Seq = c.srv.sessions.markRead(c.sess, c, r.Room, r.Seq)
	return nil
}

// joinReplay joins room, first delivering the history asked for.
func (c *conn) joinReplay(room string, want hub.Replay) (hub.JoinResult, error) {
	ctx, cancel := c.storeContext()
	defer cancel()
	res, err := c.srv.hub.JoinReplay(ctx, room, c, want)
	if err != nil {
		return res, err
	}
	c.rooms.add(room)
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
	c.rooms.remove(room)
	delete(c.lastTyped, room)
	c.srv.hub.Leave(room, c)
}

func notMember(room string) *protocol.Error {
	return protocol.Errorf(protocol.CodeNotMember, "join room %q first", room)
}
