package client

import (
	"context"

	"github.com/chatd/chatd/protocol"
)

// Reply sends text to room as a reply to message replyTo (its Seq), which
// a client shows quoted. It is paced, retried and applied once like Send.
// A refusal is a *ServerError: not_found for a message that is not there
// or is deleted, bad_thread for one shown only in a thread, not_member.
func (c *Client) Reply(ctx context.Context, room string, replyTo uint64, text string) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeSend, Room: room, Text: &text, ReplyTo: replyTo, ClientMsgID: NewMsgID()}, true)
}

// ThreadReply sends text to room as a reply in the thread of message root,
// shown in the room as well if alsoRoom; replyTo, if not 0, is the root or
// a reply of the thread that it answers. It is paced, retried and applied
// once like Send. A refusal is a *ServerError: not_found, bad_thread for a
// root that is itself a thread reply, not_member.
func (c *Client) ThreadReply(ctx context.Context, room string, root, replyTo uint64, text string, alsoRoom bool) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeSend, Room: room, Text: &text, Thread: root, ReplyTo: replyTo,
		AlsoRoom: alsoRoom, ClientMsgID: NewMsgID()}, true)
}

// Thread returns up to limit replies of the thread of room's message root
// older than before (0: the newest), oldest first, and whether older ones
// remain, paged like History. The root itself, with its summary (Replies,
// LastReplySeq, LastReplyTS), comes with the room's history.
func (c *Client) Thread(ctx context.Context, room string, root, before uint64, limit int) ([]protocol.Message, bool, error) {
	ack, err := c.do(ctx, protocol.Request{Type: protocol.TypeHistory, Room: room, Thread: root, Before: before, Limit: limit}, true)
	if err != nil {
		return nil, false, err
	}
	return ack.Messages, ack.More, nil
}
