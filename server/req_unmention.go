package server

import (
	"slices"
	"strings"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// unmentions returns the signed-in users whose kept mentions of room's
// message target a change takes away, each with the seq of the event
// that mentioned them: all of them for a delete, and for an edit to text
// those whose names text no longer gives. Like a Slack mention, a message
// deleted or edited before its user read it no longer counts as unread.
func (c *conn) unmentions(room string, target uint64, change store.Change, text string) (map[string]uint64, *protocol.Error) {
	ctx, cancel := c.storeContext()
	defer cancel()
	gone, err := c.srv.cfg.Store.MessageMentions(ctx, room, target)
	if err != nil {
		c.srv.log.Warn("read the mentions of a message", "room", room, "seq", target, "err", err)
		return nil, protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	if change == store.ChangeEdit {
		for _, name := range protocol.ParseMentions(text) {
			delete(gone, strings.ToLower(name))
		}
	}
	return gone, nil
}

// unmentionKeys are the keys of gone, in order, for an edit to remove
// from the store (store.Message.Unmentions).
func unmentionKeys(gone map[string]uint64) []string {
	if len(gone) == 0 {
		return nil
	}
	keys := make([]string, 0, len(gone))
	for k := range gone {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// notifyUnmentions sends an unmention event for e, a change stored as p,
// to every JSON connection of each user in gone, on this node and the
// others, so that their clients drop the mention from the room's unread
// ones. It runs where a message's Done does and does not block.
func (s *Server) notifyUnmentions(e *hub.Event, p hub.Published, gone map[string]uint64) {
	for key, at := range gone {
		body := protocol.AppendJSON(nil, protocol.Unmention{Type: protocol.TypeUnmention, Room: e.Room, Seq: p.Seq, From: e.From,
			TS: protocol.Millis(p.Time), Target: e.Target, Mention: at})
		s.sessions.deliverFrame(key, textFrame(body), nil)
		s.tellUser(key, userNotice{Kind: noticeUnmention, Event: body})
	}
}
