package store

// Mention is a chat message that names a user (@name) who may read its
// room, as Append records it from Message.Mentions. A message mentions a
// user once: an edit that names the user again records nothing, an edit
// that no longer names the user removes its mention (Message.Unmentions),
// and a delete of the message, or retention, removes all of them.
type Mention struct {
	// ID orders a user's mentions, newest highest, and pages them.
	ID int64
	// User is the key of the user mentioned.
	User string
	// At is the Seq of the event that made the mention: the chat message
	// itself, or a later edit of it that added the name. Read positions
	// are compared with it, since the user was told of the mention then.
	At uint64
	// Message is the chat message in its current state (edited text and
	// time), without reactions.
	Message Message
}

// MentionTarget is the Seq of the chat message that m, a message or an
// edit with Mentions, records them for.
func MentionTarget(m *Message) uint64 {
	if m.Change == ChangeEdit {
		return m.Target
	}
	return m.Seq
}
