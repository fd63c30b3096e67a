package server

import (
	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
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
		if e.Kind != hub.KindMessage {
			return nil
		}
		return textFrame(e.Text)
	}
	switch e.Kind {
	case hub.KindMessage:
		return jsonFrame(protocol.Message{
			Type: protocol.TypeMessage, Room: e.Room, Seq: e.Seq, From: e.From,
			TS: protocol.Millis(e.Time), Text: string(e.Text), ClientMsgID: e.ClientMsgID,
		})
	case hub.KindPresence:
		return jsonFrame(protocol.PresenceDiff{Type: protocol.TypePresenceDiff, Room: e.Room, Joins: e.Joins, Leaves: e.Leaves, Users: e.Users})
	case hub.KindTyping:
		return jsonFrame(protocol.Typing{Type: protocol.TypeTyping, Room: e.Room, From: e.From})
	}
	return nil
}
