package client

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/protocol"
)

// A reconnect recovers each room with since, and the server's replay stops
// at its limits (1000 messages, or its reply bytes) with more: the client
// then pages on with history after until it has what it missed. The room's
// live events go on meanwhile and may come before the pages that precede
// them, so until the room has caught up they are held or dropped, and the
// pages bring them back, in order.

// catchUp is a room being recovered on a new connection: from its rejoin
// with since until the client has every event up to where the replay
// should have reached.
type catchUp struct {
	acked bool   // the join's ack has come
	last  uint64 // the room's last seq at the join, from its ack
	more  bool   // the replay stopped at a server limit before last
	// held are the room's events before the join's ack: the replay, then
	// perhaps live events after last.
	held []heldEvent
	// dropped is the highest seq of an event dropped while catching up,
	// to be paged for.
	dropped uint64
}

type heldEvent struct {
	typ string
	seq uint64
	b   []byte
}

// maxHeld bounds the events held for one room before its join's ack: a
// replay is at most the server's history limit (1000 by default); events
// past the bound are dropped and paged for.
const maxHeld = 4096

// startCatchUp marks room as recovered on a new connection.
func (p *positions) startCatchUp(room string) {
	if p.catching == nil {
		p.catching = make(map[string]*catchUp)
	}
	p.catching[room] = &catchUp{}
}

// endCatchUps forgets the rooms being caught up, when a rejoin ends.
func (p *positions) endCatchUps() { clear(p.catching) }

// hold keeps or drops a room event of a room catching up, and reports
// whether it did; events of other rooms are delivered as they come.
func (p *positions) hold(room, typ string, seq uint64, b []byte) bool {
	cu := p.catching[room]
	if cu == nil {
		return false
	}
	if cu.acked || len(cu.held) >= maxHeld {
		cu.dropped = max(cu.dropped, seq)
	} else {
		cu.held = append(cu.held, heldEvent{typ: typ, seq: seq, b: b})
	}
	return true
}

// replayed records the ack of a join that recovers room, and reports
// whether room is catching up; the room's position moves as its held
// events and pages are delivered, not to last at once.
func (p *positions) replayed(room string, last *uint64, more bool) bool {
	cu := p.catching[room]
	if cu == nil || cu.acked || last == nil {
		return false
	}
	cu.acked, cu.last, cu.more = true, *last, more
	return true
}

// catchUp finishes the recovery of room on the new connection ws, which
// no other request uses yet: it delivers the events held until the join's
// ack, and pages on with history after while the replay stopped short of
// the room's last event at the join, or events were dropped meanwhile.
// Each event is delivered once, in order. The error is a failure of the
// connection, or a page the server refused: the client reconnects and
// recovers from where it got.
func (c *Client) catchUp(ctx context.Context, ws *websocket.Conn, room string) error {
	c.mu.Lock()
	cu := c.pos.catching[room]
	var held []heldEvent
	if cu != nil {
		held, cu.held = cu.held, nil
	}
	c.mu.Unlock()
	if cu == nil || !cu.acked {
		return nil
	}
	for _, h := range held {
		if cu.more && h.seq > cu.last {
			// Live, past a gap that the pages fill first.
			c.mu.Lock()
			cu.dropped = max(cu.dropped, h.seq)
			c.mu.Unlock()
			continue
		}
		if err := c.deliver(h.typ, h.b); err != nil {
			return err
		}
	}
	for {
		c.mu.Lock()
		at, _ := c.pos.since(room)
		until := cu.dropped
		if cu.more {
			until = max(until, cu.last)
		}
		c.mu.Unlock()
		if at >= until {
			break
		}
		page, err := c.pageAfter(ctx, ws, room, at)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break // retention removed the rest
		}
		for _, b := range page {
			var head struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(b, &head) != nil {
				continue
			}
			if err := c.deliver(head.Type, b); err != nil {
				return err
			}
		}
	}
	c.mu.Lock()
	delete(c.pos.catching, room)
	// Nothing between where the pages ended and last is coming: the
	// server had it removed (retention).
	c.pos.joined(room, &cu.last)
	c.mu.Unlock()
	return nil
}

// pageAfter asks ws for the events of room after seq at, waiting as the
// server says while it answers rate_limited, and returns them as sent.
func (c *Client) pageAfter(ctx context.Context, ws *websocket.Conn, room string, at uint64) ([]json.RawMessage, error) {
	for {
		cl, err := c.post(ctx, ws, protocol.Request{Type: protocol.TypeHistory, Room: room, After: &at})
		if err != nil {
			return nil, err
		}
		r, err := c.await(ctx, ws, cl)
		if err != nil {
			return nil, err
		}
		if se, ok := errors.AsType[*ServerError](r.err); ok && se.Code == protocol.CodeRateLimited && se.RetryAfter > 0 {
			if err := c.sleep(ctx, se.RetryAfter); err != nil {
				return nil, err
			}
			continue
		}
		if r.err != nil {
			return nil, r.err
		}
		var page struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(r.ack.Raw, &page); err != nil {
			return nil, err
		}
		return page.Messages, nil
	}
}
