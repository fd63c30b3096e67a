package server

import (
	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// The member lists of a room are read in pages, so that a room of
// thousands never puts its whole list in one frame: a join ack lists the
// first joinMembers users, and each who page at most whoPage, and no more
// than ReplyBytes. Both say how many users there are in all.
const (
	joinMembers = 100
	whoPage     = 1000
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
	ack.Members, ack.Users = c.srv.hub.MembersAfter(r.Room, "", joinMembers, c)
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

// handleWho lists who is in a room: the users whose names sort after the
// request's cursor, a page at a time. A page cut short says More and gives
// the Cursor to ask again with.
func (c *conn) handleWho(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	if e := c.checkEnter(r.Room); e != nil {
		return e
	}
	names, users := c.srv.hub.MembersAfter(r.Room, r.Cursor, whoPage+1, c)
	if users == 0 {
		return protocol.Errorf(protocol.CodeUnknownRoom, "nobody is in room %q", r.Room)
	}
	ack.Users = users
	ack.Members = make([]string, 0, min(len(names), whoPage))
	size := 0
	for _, name := range names {
		// Names need no escaping: a quoted name and its comma.
		if size += len(name) + 3; len(ack.Members) == whoPage || size > c.srv.cfg.ReplyBytes && len(ack.Members) > 0 {
			ack.More = true
			ack.Cursor = ack.Members[len(ack.Members)-1]
			break
		}
		ack.Members = append(ack.Members, name)
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
	c.srv.tellUser(c.sess.key, userNotice{Kind: noticeRead, Room: r.Room, Seq: ack.Seq})
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
	c.rooms.add(res.Room)
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
	if c.active != nil {
		delete(c.active.lastTyped, room)
	}
	c.srv.hub.Leave(room, c)
}

func notMember(room string) *protocol.Error {
	return protocol.Errorf(protocol.CodeNotMember, "join room %q first", room)
}
