package hub

import (
	"time"

	"github.com/chatd/chatd/store"
)

// Kind tells what an Event is.
type Kind uint8

const (
	// KindMessage is a chat message; the hub gives it the room's next
	// sequence number and a timestamp.
	KindMessage Kind = iota
	// KindPresence is a presence diff: the users who became present in a
	// room and who left it since the last diff, and how many are present.
	KindPresence
	// KindTyping reports that a user is typing. It may be dropped for a
	// member that is falling behind.
	KindTyping
	// KindReactions is the state of a message's reactions after a run of
	// reactions to it, sent in their place (see run.go): Target is the
	// message, Reactions its reactions, and First to Seq the sequence
	// numbers of the reactions it covers.
	KindReactions
)

// Event is something that happens in a room.
type Event struct {
	Kind Kind
	Room string
	// From is the display name of the author or the typist.
	From string
	// Text is a message's text.
	Text []byte
	// ClientMsgID is the sender's id for a message; a message that repeats
	// a stored one (same From, same id, same room) is not delivered again.
	ClientMsgID string
	// Presence is a presence diff's (KindPresence) change.
	Presence *Presence
	// Change, on a message, says it changes the earlier message Target of
	// the room (an edit or a delete) rather than being a new one; it is
	// numbered, stored and delivered like any message.
	Change store.Change
	Target uint64
	// State is the current state of a message replayed from the store, or
	// on KindReactions the reactions after the run; nil on a live message,
	// which has none. It is a pointer because a live chat message, the
	// event made for every message sent, then is a 240-byte allocation
	// rather than 384 (with Presence).
	State *State
	// Mentions, on a message or an edit, are the keys of the users it
	// mentions whose mentions the store keeps (store.Message.Mentions).
	Mentions []string
	// Unmentions, on an edit, are the keys of the users whose mentions of
	// its target the edit takes out (store.Message.Unmentions).
	Unmentions []string
	// ReplyTo, Thread and AlsoRoom, on a chat message, are what it answers
	// and the thread it is a reply in (see store.Message).
	ReplyTo  uint64
	Thread   uint64
	AlsoRoom bool
	// Seq and Time are set by the hub on messages.
	Seq  uint64
	Time time.Time
	// First, on KindReactions, is the first sequence number covered.
	First uint64
	// Done, on a message published to a durable hub, is called once the
	// message is stored and fanned out, or has failed to be stored. It runs
	// on the goroutine of the room's journal and must not block; Done of
	// messages in rooms of different journals may run at the same time, so
	// a subscriber's messages to two rooms may complete in either order.
	Done func(Published, error)
}

// Presence is a change in who is present in a room.
type Presence struct {
	// Joins and Leaves name the users who became present and who left,
	// sorted; Users counts those present after it.
	Joins, Leaves []string
	Users         int
}

// State is what a message has become since it was sent, as the store
// holds it (see store.Message).
type State struct {
	// Edited is when it was last edited; Deleted, whether it was deleted.
	Edited  time.Time
	Deleted bool
	// Reactions are its reactions.
	Reactions []store.Reaction
	// Summary is its thread's summary, when it is a thread's root.
	Summary store.ThreadSummary
}

// Published is the outcome of publishing a message.
type Published struct {
	Seq       uint64
	Time      time.Time
	Duplicate bool // the message repeated a recent ClientMsgID and was not delivered again
	Delivered int  // members it was offered to
	// Pending is set when the hub is durable: the message gets its
	// sequence number, is delivered, and Event.Done is called, only once
	// stored; Seq is 0 until then.
	Pending bool
}

// storedEvent is the event of a message read back from the store.
func storedEvent(m *store.Message) *Event {
	e := &Event{Kind: KindMessage, Room: m.Room, From: m.From, Text: []byte(m.Text),
		ClientMsgID: m.ClientMsgID, Seq: m.Seq, Time: m.Time,
		Change: m.Change, Target: m.Target, ReplyTo: m.ReplyTo, Thread: m.Thread, AlsoRoom: m.AlsoRoom}
	if !m.Edited.IsZero() || m.Deleted || len(m.Reactions) > 0 || m.Summary != (store.ThreadSummary{}) {
		e.State = &State{Edited: m.Edited, Deleted: m.Deleted, Reactions: m.Reactions, Summary: m.Summary}
	}
	return e
}
