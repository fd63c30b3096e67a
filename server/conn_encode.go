package server

import (
	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// The wire formats a connection may speak.
const (
	// formatPlain: a message is the sender's text, nothing else is sent.
	formatPlain hub.Format = iota
	// formatJSON: protocol.SubprotocolV1 events.
	formatJSON
)

// encode is the hub's Encoder: it runs once per event and format, and its
// result is shared by every recipient.
func encode(f hub.Format, e *hub.Event) []byte {
	if f == formatPlain {
		// A plain-text client sees the texts of chat messages, nothing
		// else: no changes, and no message deleted before its replay.
		if e.Kind != hub.KindMessage || e.Change != store.ChangeNone || e.State != nil && e.State.Deleted {
			return nil
		}
		return textFrame(e.Text)
	}
	switch e.Kind {
	case hub.KindMessage:
		m := store.Message{Room: e.Room, Seq: e.Seq, From: e.From, Text: string(e.Text),
			ClientMsgID: e.ClientMsgID, Time: e.Time, Change: e.Change, Target: e.Target,
			ReplyTo: e.ReplyTo, Thread: e.Thread, AlsoRoom: e.AlsoRoom}
		if st := e.State; st != nil {
			m.Edited, m.Deleted, m.Reactions, m.Summary = st.Edited, st.Deleted, st.Reactions, st.Summary
		}
		return jsonFrame(wireMessage(&m))
	case hub.KindPresence:
		return jsonFrame(protocol.PresenceDiff{Type: protocol.TypePresenceDiff, Room: e.Room, Joins: e.Presence.Joins, Leaves: e.Presence.Leaves, Users: e.Presence.Users})
	case hub.KindTyping:
		return jsonFrame(protocol.Typing{Type: protocol.TypeTyping, Room: e.Room, From: e.From})
	case hub.KindReactions:
		return jsonFrame(protocol.Reactions{Type: protocol.TypeReactions, Room: e.Room, Seq: e.Seq, First: e.First,
			TS: protocol.Millis(e.Time), Target: e.Target, Reactions: wireReactions(e.State.Reactions)})
	}
	return nil
}

// wireMessage is m as JSON clients receive it, live or in history.
func wireMessage(m *store.Message) protocol.Message {
	pm := protocol.Message{Type: protocol.TypeMessage, Room: m.Room, Seq: m.Seq, From: m.From,
		TS: protocol.Millis(m.Time), Text: m.Text, ClientMsgID: m.ClientMsgID, Target: m.Target, Deleted: m.Deleted}
	switch m.Change {
	case store.ChangeEdit:
		pm.Type = protocol.TypeEdit
	case store.ChangeDelete:
		pm.Type = protocol.TypeDelete
	case store.ChangeReact, store.ChangeUnreact:
		pm.Type, pm.Emoji, pm.Text = string(m.Change), m.Text, ""
	}
	if len(m.Reactions) > 0 {
		pm.Reactions = wireReactions(m.Reactions)
	}
	if !m.Edited.IsZero() {
		pm.Edited = protocol.Millis(m.Edited)
	}
	setReplyFields(&pm, m)
	return pm
}

// wireReactions is rs as JSON clients receive them: counted, with the
// first ReactionUsersListed users named. It is never nil.
func wireReactions(rs []store.Reaction) []protocol.Reaction {
	out := make([]protocol.Reaction, 0, len(rs))
	for _, r := range rs {
		out = append(out, protocol.Reaction{Emoji: r.Emoji, Count: r.Count,
			Users: r.Users[:min(len(r.Users), protocol.ReactionUsersListed)]})
	}
	return out
}
