package client

import (
	"context"

	"github.com/chatd/chatd/protocol"
)

// Read marks room read up to seq for the user, on every device: the
// position only moves forward, and the ack's Seq is the position after
// the request. The room must be joined.
func (c *Client) Read(ctx context.Context, room string, seq uint64) (*Ack, error) {
	return c.do(ctx, protocol.Request{Type: protocol.TypeRead, Room: room, Seq: seq}, true)
}
