package client

import (
	"encoding/json"
	"time"

	"github.com/chatd/chatd/protocol"
)

// Event is one value from Client.Events: *Message, *Edit, *Delete, *React, *Unreact, *Reactions, *Mention, *Unmention, *DM,
// *PresenceDiff, *Typing and *Unknown come from the server; *Disconnected and *Reconnected from the
// client itself.
type Event interface{ event() }

// Message is a chat message in one of the client's rooms. The client's own
// messages are not delivered to the connection that sent them.
type Message struct {
	protocol.Message
	Raw json.RawMessage // the event as the server sent it
}

// Edit reports that message Target of a room was edited: its text is now
// Text. The edit has a Seq of its own in the room's sequence. The client's
// own edits are not delivered to the connection that made them.
type Edit struct {
	protocol.Message
	Raw json.RawMessage
}

// React reports that From added the reaction Emoji to message Target of a
// room; Unreact that they took it back. Each has a Seq of its own in the
// room's sequence. Messages from history carry their current Reactions.
type React struct {
	protocol.Message
	Raw json.RawMessage
}

// Unreact reports that From took back the reaction Emoji to message
// Target of a room.
type Unreact struct {
	protocol.Message
	Raw json.RawMessage
}

// Reactions reports message Target's reactions after the reactions with
// seqs First to Seq, which it stands for: replace the message's reactions
// with it. It reaches every member, the one whose reactions it covers
// included.
type Reactions struct {
	protocol.Reactions
	Raw json.RawMessage
}

// Delete reports that message Target of a room was deleted, by its author
// or the private room's owner (From): show a tombstone in its place. The
// delete has a Seq of its own in the room's sequence.
type Delete struct {
	protocol.Message
	Raw json.RawMessage
}

// DM is a direct message to this user, or from this user's other
// connections.
type DM struct {
	protocol.DM
	Raw json.RawMessage
}

// PresenceDiff reports the users who joined and who left one of the
// client's rooms since the last diff, and how many are present. The server
// coalesces changes, so one diff may carry many; apply Joins and Leaves as
// additions to and removals from a set, as a diff may repeat what a join's
// member list already showed.
type PresenceDiff struct {
	protocol.PresenceDiff
	Raw json.RawMessage
}

// Typing reports that another user is typing in one of the client's rooms.
type Typing struct {
	protocol.Typing
	Raw json.RawMessage
}

// Unknown is an event of a type this client does not know, from a newer
// server. Programs may ignore it.
type Unknown struct {
	Type string
	Raw  json.RawMessage
}

// Disconnected reports that the connection ended and the client is
// redialing (Options.Reconnect). Err says why it ended.
type Disconnected struct {
	Err error
}

// Reconnected reports that the client is connected again. Name is the user
// name now (a guest gets a new one), Rooms the rooms it rejoined, and
// Err, when not nil, why it could not rejoin the others.
type Reconnected struct {
	Name     string
	Rooms    []string
	Attempts int // dials it took
	Err      error
}

func (*Message) event()      {}
func (*Edit) event()         {}
func (*React) event()        {}
func (*Mention) event()      {}
func (*Unmention) event()    {}
func (*Unreact) event()      {}
func (*Reactions) event()    {}
func (*Delete) event()       {}
func (*DM) event()           {}
func (*PresenceDiff) event() {}
func (*Typing) event()       {}
func (*Unknown) event()      {}
func (*Disconnected) event() {}
func (*Reconnected) event()  {}

// Time returns when the server stamped the message .
func (m *Message) Time() time.Time { return parseTime(m.TS) }

// Time returns when the server stamped the direct message.
func (m *DM) Time() time.Time { return parseTime(m.TS) }

func parseTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// Ack is the server's reply to a request that succeeded. Which fields are
// set depends on the request; Raw is the reply as the server sent it.
type Ack struct {
	protocol.Ack
	Raw json.RawMessage
}

// Time returns the ack's timestamp (send and dm), or the zero time.
func (a *Ack) Time() time.Time { return parseTime(a.TS) }

// decodeEvent turns a server event other than a reply into an Event, or nil
// for events the client handles itself.
func decodeEvent(typ string, b []byte) (Event, error) {
	raw := json.RawMessage(b)
	var (
		ev  Event
		err error
	)
	switch typ {
	case protocol.TypeMessage:
		e := &Message{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Message), e
	case protocol.TypeEdit:
		e := &Edit{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Message), e
	case protocol.TypeDelete:
		e := &Delete{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Message), e
	case protocol.TypeMention:
		e := &Mention{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Message), e
	case protocol.TypeUnmention:
		e := &Unmention{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Unmention), e
	case protocol.TypeReact:
		e := &React{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Message), e
	case protocol.TypeUnreact:
		e := &Unreact{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Message), e
	case protocol.TypeReactions:
		e := &Reactions{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Reactions), e
	case protocol.TypeDM:
		e := &DM{Raw: raw}
		err, ev = json.Unmarshal(b, &e.DM), e
	case protocol.TypePresenceDiff:
		e := &PresenceDiff{Raw: raw}
		err, ev = json.Unmarshal(b, &e.PresenceDiff), e
	case protocol.TypeTyping:
		e := &Typing{Raw: raw}
		err, ev = json.Unmarshal(b, &e.Typing), e
	case protocol.TypeWelcome:
		return nil, nil
	default:
		ev = &Unknown{Type: typ, Raw: raw}
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}
