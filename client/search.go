package client

import (
	"context"
	"errors"
	"time"

	"github.com/chatd/chatd/protocol"
)

// Search is a search request: the words to find and the optional filters.
type Search struct {
	// Q is the words; a hit has all of them. A '*' at the end makes the
	// last a prefix.
	Q string
	// Room and From, if set, narrow the search to one room and one author.
	Room, From string
	// After and Before, if not zero, bound the hits' times (exclusive).
	After, Before time.Time
	// Best orders the hits best match first instead of newest first.
	Best bool
	// Limit is the most hits of a page; 0 means the server's default.
	Limit int
	// Cursor continues a search from the Next of its previous page.
	Cursor string
}

// SearchPage is one page of hits, and Next, which continues the search
// when it is not empty. A page may hold fewer hits than asked for, even
// none, and still have a Next.
type SearchPage struct {
	Hits []protocol.SearchHit
	Next string
}

// Search searches the messages of the rooms the user may read. It waits
// and retries while the server answers rate_limited. A refusal is a
// *ServerError: bad_request for a q without words, forbidden for a
// private room the user is not in, unavailable on a server without a
// store.
func (c *Client) Search(ctx context.Context, s Search) (SearchPage, error) {
	req := protocol.Request{Type: protocol.TypeSearch, Q: s.Q, Room: s.Room, From: s.From, Limit: s.Limit, Cursor: s.Cursor}
	if s.Best {
		req.Order = protocol.OrderBest
	}
	if !s.After.IsZero() {
		ms := uint64(max(0, s.After.UnixMilli()))
		req.After = &ms
	}
	if !s.Before.IsZero() {
		req.Before = uint64(max(1, s.Before.UnixMilli()))
	}
	ack, err := c.doRequestLimited(ctx, req)
	if err != nil {
		return SearchPage{}, err
	}
	p := SearchPage{Hits: ack.Hits}
	if ack.More {
		p.Next = ack.Cursor
	}
	return p, nil
}

// Around returns up to limit messages of room around seq, seq included,
// oldest first, to show a message (a search hit) in its context; more
// says whether older ones remain.
func (c *Client) Around(ctx context.Context, room string, seq uint64, limit int) ([]protocol.Message, bool, error) {
	ack, err := c.do(ctx, protocol.Request{Type: protocol.TypeHistory, Room: room, Around: seq, Limit: limit}, true)
	if err != nil {
		return nil, false, err
	}
	return ack.Messages, ack.More, nil
}

// doRequestLimited does req, and again after the server's retry_after_ms
// while it answers rate_limited, for requests with a rate of their own
// that the welcome does not announce.
func (c *Client) doRequestLimited(ctx context.Context, req protocol.Request) (*Ack, error) {
	for {
		ack, err := c.do(ctx, req, true)
		if ErrorCode(err) != protocol.CodeRateLimited {
			return ack, err
		}
		wait := 100 * time.Millisecond
		if se, ok := errors.AsType[*ServerError](err); ok && se.RetryAfter > 0 {
			wait = se.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
