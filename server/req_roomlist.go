package server

import (
	"strconv"

	"github.com/chatd/chatd/protocol"
)

// handleRooms answers a rooms request: the rooms c may see whose names
// sort after the request's cursor, as many as fit in ReplyBytes. A list
// cut short says More and gives the Cursor to ask again with, so that a
// server with thousands of rooms never queues a list larger than a share
// of the queue.
func (c *conn) handleRooms(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	cursor := r.Cursor
	var all []protocol.RoomInfo
	for _, info := range c.srv.hub.Rooms() {
		if info.Name > cursor {
			all = append(all, protocol.RoomInfo{Room: info.Name, Members: info.Users})
		}
	}
	rooms, err := c.visibleRooms(all)
	if err != nil {
		c.srv.log.Warn("list rooms", "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	}
	ack.Rooms = make([]protocol.RoomInfo, 0, len(rooms))
	size := 0
	for _, info := range rooms {
		if info.Room <= cursor {
			continue // a private room of the user's, on an earlier page
		}
		if size += roomInfoSize(info); size > c.srv.cfg.ReplyBytes && len(ack.Rooms) > 0 {
			ack.More = true
			ack.Cursor = ack.Rooms[len(ack.Rooms)-1].Room
			break
		}
		ack.Rooms = append(ack.Rooms, info)
	}
	return nil
}

// roomInfoSize is the length of info's entry in an encoded rooms reply,
// with its comma; room names need no escaping.
func roomInfoSize(info protocol.RoomInfo) int {
	n := len(`{"room":"","members":},`) + len(info.Room) + len(strconv.Itoa(info.Members))
	if info.Private {
		n += len(`,"private":true`)
	}
	return n
}
