package server

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// mentioned is a user a message mentions who may read its room.
type mentioned struct {
	key string
	// kept marks a signed-in user, whose mention the store keeps for its
	// unread counts and mentions list; a guest's is only delivered.
	kept bool
}

// mentionsIn returns the users text mentions who are members of room, but
// the author (its key) and the names in skip (an edited message's earlier
// text):
// in a private room its members; in a public room the users present in
// it now, on any node, and the signed-in users who have a read position
// in it (they joined it and read it at some time). Guests are members
// only while present.
func (s *Server) mentionsIn(ctx context.Context, room, author, text, skip string) ([]mentioned, error) {
	names := protocol.ParseMentions(text)
	if len(names) == 0 {
		return nil, nil
	}
	old := protocol.ParseMentions(skip)
	private, err := s.isPrivate(ctx, room)
	if err != nil {
		return nil, err
	}
	var out []mentioned
	for _, name := range names {
		key := strings.ToLower(name)
		if key == author || containsKey(old, key) {
			continue
		}
		m, ok, err := s.mentionOf(ctx, room, key, private)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func containsKey(names []string, key string) bool {
	for _, n := range names {
		if strings.ToLower(n) == key {
			return true
		}
	}
	return false
}

// isPrivate reports whether room is a private room.
func (s *Server) isPrivate(ctx context.Context, room string) (bool, error) {
	if s.cfg.Accounts == nil {
		return false, nil
	}
	rm, err := s.cfg.Accounts.Room(ctx, room)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return rm.Private, nil
}

// mentionOf decides whether the user with key is a member of room for a
// mention (see mentionsIn).
func (s *Server) mentionOf(ctx context.Context, room, key string, private bool) (mentioned, bool, error) {
	account := false
	if s.cfg.Accounts != nil {
		_, err := s.cfg.Accounts.User(ctx, key)
		switch {
		case err == nil:
			account = true
		case !errors.Is(err, store.ErrNotFound):
			return mentioned{}, false, err
		}
	}
	m := mentioned{key: key, kept: account && s.cfg.Store != nil}
	switch {
	case private:
		if !account {
			return m, false, nil
		}
		ok, err := s.cfg.Accounts.IsMember(ctx, room, key)
		return m, ok, err
	case s.hub.Present(room, key):
		return m, true, nil
	case !m.kept:
		return m, false, nil
	}
	reads, err := s.cfg.Store.ReadPositions(ctx, key)
	if err != nil {
		return m, false, err
	}
	_, ok := reads[room]
	return m, ok, nil
}

// keptKeys are the keys of the users of ms whose mentions the store keeps.
func keptKeys(ms []mentioned) []string {
	var keys []string
	for _, m := range ms {
		if m.kept {
			keys = append(keys, m.key)
		}
	}
	return keys
}

// notifyMentions sends a mention event for e, stored as p, to every JSON
// connection of each user in ms, on this node and the others. It runs
// where a message's Done does and does not block.
func (s *Server) notifyMentions(e *hub.Event, p hub.Published, ms []mentioned) {
	ev := protocol.Message{Type: protocol.TypeMention, Room: e.Room, Seq: p.Seq, From: e.From,
		TS: protocol.Millis(p.Time), Text: string(e.Text), Target: e.Target}
	body := protocol.AppendJSON(nil, ev)
	frame := textFrame(body)
	for _, m := range ms {
		s.sessions.deliverFrame(m.key, frame, nil)
		s.tellUser(m.key, userNotice{Kind: noticeMention, Event: body})
	}
}

// handleMentions lists the user's mentions in the rooms it may read,
// newest first, in pages.
func (c *conn) handleMentions(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	st := c.srv.cfg.Store
	if st == nil {
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no history, so no mentions (start chatd with -store)")
	}
	var before int64
	if r.Cursor != "" {
		n, err := strconv.ParseInt(r.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return protocol.Errorf(protocol.CodeBadRequest, "cursor must be the cursor of a mentions reply")
		}
		before = n
	}
	limit := protocol.MentionsPage
	if r.Limit > 0 {
		limit = min(r.Limit, protocol.MaxMentionsPage)
	}
	ack.Messages = []protocol.Message{}
	id := c.identity()
	if !id.signedIn() {
		return nil // a guest's mentions are not kept
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	ms, err := st.Mentions(ctx, id.key(), before, limit)
	if err != nil {
		c.srv.log.Warn("read mentions", "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	readable := make(map[string]bool)
	size := 0
	for i := range ms {
		room := ms[i].Message.Room
		ok, seen := readable[room]
		if !seen {
			if ok, err = c.srv.mayEnter(ctx, id, room); err != nil {
				c.srv.log.Warn("room access for mentions", "room", room, "err", err)
				return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
			}
			readable[room] = ok
		}
		if ok {
			pm := wireMessage(&ms[i].Message)
			if size += protocol.MessageSize(&pm); size > c.srv.cfg.ReplyBytes && len(ack.Messages) > 0 {
				ack.More, ack.Cursor = true, strconv.FormatInt(ms[i-1].ID, 10)
				return nil
			}
			ack.Messages = append(ack.Messages, pm)
		}
	}
	if len(ms) == limit {
		ack.More, ack.Cursor = true, strconv.FormatInt(ms[len(ms)-1].ID, 10)
	}
	return nil
}

// unreadMentions loads a signed-in user's unread mentions for its welcome,
// in the rooms it may read.
func (s *Server) unreadMentions(ctx context.Context, id identity) (map[string][]uint64, error) {
	if s.cfg.Store == nil || !id.signedIn() {
		return nil, nil
	}
	unread, err := s.cfg.Store.UnreadMentions(ctx, id.key(), protocol.UnreadMentionsListed)
	if err != nil {
		return nil, err
	}
	for room := range unread {
		ok, err := s.mayEnter(ctx, id, room)
		if err != nil {
			return nil, err
		}
		if !ok {
			delete(unread, room)
		}
	}
	return unread, nil
}

// mentions is mentionsIn for a request, with the store's failure as the
// request's answer.
func (c *conn) mentions(room, text, skip string) ([]mentioned, *protocol.Error) {
	if !strings.Contains(text, "@") {
		return nil, nil
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	ms, err := c.srv.mentionsIn(ctx, room, c.sess.key, text, skip)
	if err != nil {
		c.srv.log.Warn("find the users a message mentions", "room", room, "err", err)
		return nil, protocol.Errorf(protocol.CodeUnavailable, "the account store failed; send it again with the same client_msg_id")
	}
	return ms, nil
}

// plainMentions is Server.plainMentions for a plain client's text, like
// mentions: the store call's context is made only for a text with an @.
func (c *conn) plainMentions(room string, text []byte) []mentioned {
	if bytes.IndexByte(text, '@') < 0 {
		return nil
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	return c.srv.plainMentions(ctx, room, c.sess.name, string(text))
}

// editMentions returns the users an edit of room's message target to text
// mentions that its current text does not: an edit tells only the users
// it adds. A name an edit takes out loses its mention (see unmentions).
func (c *conn) editMentions(room string, target uint64, text string) ([]mentioned, *protocol.Error) {
	if !strings.Contains(text, "@") {
		return nil, nil
	}
	ctx, cancel := c.storeContext()
	msgs, err := c.srv.cfg.Store.After(ctx, room, target-1, 1)
	cancel()
	if err != nil {
		c.srv.log.Warn("read message to edit", "room", room, "seq", target, "err", err)
		return nil, protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	old := ""
	if len(msgs) == 1 && msgs[0].Seq == target {
		old = msgs[0].Text
	}
	return c.mentions(room, text, old)
}

// plainMentions is mentionsIn for a message that cannot be refused (a
// plain client's, a backend's): a store that fails loses the mentions,
// not the message.
func (s *Server) plainMentions(ctx context.Context, room, author, text string) []mentioned {
	if !strings.Contains(text, "@") {
		return nil
	}
	ms, err := s.mentionsIn(ctx, room, strings.ToLower(author), text, "")
	if err != nil {
		s.log.Warn("find the users a message mentions", "room", room, "err", err)
		return nil
	}
	return ms
}
