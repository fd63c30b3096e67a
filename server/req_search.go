package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// searchRounds is how many pages of the index one search request reads at
// most while it drops hits in rooms the user may not read. A user who
// searches for words that occur mostly in others' private rooms gets a
// short page and a cursor instead of a request that reads the whole index.
const searchRounds = 4

// handleSearch answers a search request: a page of the messages that
// contain the words of q in the rooms the user may read (every room but
// the private ones it is not a member of), newest or best first.
func (c *conn) handleSearch(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	q, e := c.searchQuery(r)
	if e != nil {
		return e
	}
	st, ok := c.srv.cfg.Store.(store.Searcher)
	if !ok {
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no searchable history (start chatd with -store)")
	}
	if r.Room != "" {
		if e := c.checkEnter(r.Room); e != nil {
			return e
		}
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	hits, next, err := c.search(ctx, st, q)
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return protocol.Errorf(protocol.CodeBadRequest, "cursor is not one a search of this server returned")
	case err != nil:
		c.srv.log.Warn("search", "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	ack.Hits, ack.Cursor = hits, next
	ack.More = next != ""
	return nil
}

// searchQuery checks r's search fields and turns them into a store query.
func (c *conn) searchQuery(r *protocol.Request) (store.SearchQuery, *protocol.Error) {
	q := store.SearchQuery{Room: r.Room, From: r.From, Limit: protocol.DefaultSearchLimit, Cursor: r.Cursor}
	switch {
	case len(r.Q) > protocol.MaxSearchQueryBytes:
		return q, protocol.Errorf(protocol.CodeBadRequest, "q is longer than %d bytes", protocol.MaxSearchQueryBytes)
	case r.Limit < 0:
		return q, protocol.Errorf(protocol.CodeBadRequest, "limit must not be negative")
	case r.Limit > 0:
		q.Limit = min(r.Limit, protocol.MaxSearchLimit)
	}
	q.Prefix = store.SearchPrefix(r.Q)
	if q.Words = store.SearchWords(r.Q); len(q.Words) == 0 {
		return q, protocol.Errorf(protocol.CodeBadRequest, "search needs q with at least one word (letters or digits)")
	}
	switch r.Order {
	case "", protocol.OrderNewest:
		q.Order = store.SearchNewest
	case protocol.OrderBest:
		q.Order = store.SearchBest
	default:
		return q, protocol.Errorf(protocol.CodeBadRequest, "order must be %q or %q", protocol.OrderNewest, protocol.OrderBest)
	}
	// after and before bound ts, which is Time in whole milliseconds: ts
	// > after is Time from the next millisecond on.
	if r.After != nil {
		q.After = time.UnixMilli(int64(min(*r.After, 1<<53)) + 1).Add(-time.Microsecond)
	}
	if r.Before > 0 {
		q.Before = time.UnixMilli(int64(min(r.Before, 1<<53)))
	}
	return q, nil
}

// search reads pages of the index until it has q.Limit hits the user may
// read, or no more, or searchRounds pages, and converts them for the
// reply, which it keeps to ReplyBytes. next continues after the last hit
// of the reply, or is empty at the end.
func (c *conn) search(ctx context.Context, st store.Searcher, q store.SearchQuery) (hits []protocol.SearchHit, next string, err error) {
	hits = []protocol.SearchHit{}
	readable := make(map[string]bool)
	size := 0
	want := q.Limit
	for range searchRounds {
		q.Limit = want - len(hits)
		page, err := st.Search(ctx, q)
		if err != nil {
			return nil, "", err
		}
		if err := c.srv.readableRooms(ctx, c.identity(), page.Hits, readable); err != nil {
			return nil, "", err
		}
		for i := range page.Hits {
			m := &page.Hits[i]
			if !readable[m.Room] {
				next = page.After[i]
				continue
			}
			h := searchHit(m, q.Words, q.Prefix)
			if size += protocol.HitSize(&h); size > c.srv.cfg.ReplyBytes && len(hits) > 0 {
				return hits, next, nil
			}
			hits, next = append(hits, h), page.After[i]
		}
		if page.Next == "" {
			return hits, "", nil
		}
		if len(hits) == want {
			return hits, page.Next, nil
		}
		q.Cursor = page.Next
	}
	return hits, next, nil
}

func searchHit(m *store.Message, words []string, prefix bool) protocol.SearchHit {
	h := protocol.SearchHit{Room: m.Room, Seq: m.Seq, From: m.From, TS: protocol.Millis(m.Time), Text: m.Text}
	if !m.Edited.IsZero() {
		h.Edited = protocol.Millis(m.Edited)
	}
	if marks := store.Highlights(m.Text, words, prefix, foldAccents); len(marks) > 0 {
		h.Marks = marks[:min(len(marks), protocol.MaxSearchMarks)]
	}
	return h
}

// readableRooms records in readable whether id may read the room of each
// of msgs not in it yet: with one look-up of the rooms' records, and a
// membership check per private room.
func (s *Server) readableRooms(ctx context.Context, id identity, msgs []store.Message, readable map[string]bool) error {
	var names []string
	for _, m := range msgs {
		if _, ok := readable[m.Room]; !ok {
			readable[m.Room] = true // until a record says otherwise
			names = append(names, m.Room)
		}
	}
	if len(names) == 0 || s.cfg.Accounts == nil {
		return nil
	}
	rooms, err := s.cfg.Accounts.RoomsNamed(ctx, names)
	if err != nil {
		return fmt.Errorf("look up rooms: %w", err)
	}
	for _, rm := range rooms {
		if !rm.Private {
			continue
		}
		switch {
		case !id.signedIn():
			readable[rm.Name] = false
		case id.kind == protocol.AuthJWT && id.granted(rm.Name):
		default:
			ok, err := s.cfg.Accounts.IsMember(ctx, rm.Name, id.key())
			if err != nil {
				return fmt.Errorf("membership of %q in %q: %w", id.name, rm.Name, err)
			}
			readable[rm.Name] = ok
		}
	}
	return nil
}
