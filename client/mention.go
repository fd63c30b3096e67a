package client

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/chatd/chatd/protocol"
)

// Mention reports that a message of Room mentioned the user (@name), who
// is a member of the room; it arrives whether the client joined the room
// or not. Seq, From, TS and Text are the message's or, when Target is set,
// those of an edit that added the name to message Target.
type Mention struct {
	protocol.Message
	Raw json.RawMessage
}

// Unmention reports that message Target of Room no longer mentions the
// user: it was deleted, or edited not to name them (Seq, From and TS are
// the change's). Mention is the Seq of the Mention event that told of it,
// as UnreadMentions lists it: it no longer counts as unread.
type Unmention struct {
	protocol.Unmention
	Raw json.RawMessage
}

// UnreadMentions returns, by room, the Seqs of the events that mentioned
// the user above its read positions when the current connection was made
// (the newest 100 of each room), from its welcome. A signed-in user's
// mentions are kept; a guest has none here. Count later ones from Mention
// events, and drop those at or below a read position.
func (c *Client) UnreadMentions() map[string][]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := maps.Clone(c.unreadMentions)
	for room, seqs := range out {
		out[room] = slices.Clone(seqs)
	}
	return out
}

// Mentions returns a page of the messages that mentioned the user, newest
// first, each in its current state, from the rooms the user may read:
// up to limit (0: the server's default) older than cursor ("" for the
// newest). next is the cursor of the following page, "" when there is
// none. A guest's mentions are not kept, so its list is empty; a server
// without a store answers with the error unavailable.
func (c *Client) Mentions(ctx context.Context, cursor string, limit int) (msgs []protocol.Message, next string, err error) {
	ack, err := c.do(ctx, protocol.Request{Type: protocol.TypeMentions, Cursor: cursor, Limit: limit}, true)
	if err != nil {
		return nil, "", err
	}
	if ack.More {
		next = ack.Cursor
	}
	return ack.Messages, next, nil
}
