// Package store owns the storage contract of chatd's durable chat history:
// the Message a room keeps, the Store interface that every storage adapter
// implements, and the errors callers can test for with errors.Is.
//
// The adapters live in subpackages named after their technology
// (store/sqlite, store/postgres) and know nothing of each other;
// store/storetest is the one conformance suite that holds both to this
// contract. This package imports only the standard library.
//
// # Sequences and retention
//
// Every message of a room has a sequence number (Seq) that the caller
// assigns: 1, 2, 3, ... in the order the room publishes them. A store
// remembers the highest Seq it ever stored for each room (LastSeq), also
// after retention has removed the messages, and refuses to store a Seq that
// is not above it, so that a sequence number is never given to two messages,
// across restarts included. Gaps are allowed.
//
// Retention (Trim) always removes a prefix of a room's sequence: the oldest
// messages go first, and it stops at the first message it must keep. So
// every chat message of a room from Oldest to LastSeq that was stored is
// still there, and a caller asked for a range that starts below Oldest can
// say that retention removed its beginning.
//
// With a message, retention removes every change that names it (its
// edits, deletes and reactions), also those stored after the prefix: a
// change whose target is gone would replay as a change of nothing. These
// are the only holes retention makes after Oldest.
//
// # Values
//
// Text and ClientMsgID come from clients and are stored byte for byte: SQL
// and HTML metacharacters, any Unicode, U+0000 and even invalid UTF-8 come
// back as they went in. Room, From and user names are names: they must be
// valid UTF-8 without U+0000 (PostgreSQL text holds nothing else), and are
// compared byte for byte, so callers normalize them first. Time is kept to
// the microsecond and returned in UTC. Seq must be at most math.MaxInt64
// (SQL integers are signed).
package store

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
)

// Message is one chat message of a room as it is stored.
type Message struct {
	// Room is the room the message was sent to.
	Room string
	// Seq is the message's sequence number in Room, from 1.
	Seq uint64
	// From is the name of the author.
	From string
	// Text is the message's text.
	Text string
	// ClientMsgID is the author's id for the message, for idempotent
	// retries; empty when the author gave none.
	ClientMsgID string
	// Time is when the server accepted the message.
	Time time.Time
	// Change is what the message does to its room: ChangeNone for a new
	// chat message, or a change to the earlier message Target. Append and
	// AppendNumbered apply a change to its target in the same transaction
	// that stores it (see Change).
	Change Change
	// Target is the Seq of the message a change changes; 0 otherwise.
	Target uint64
	// Edited is when a chat message's text was last replaced by an edit,
	// zero if never. Stores set it; it is ignored on Append.
	Edited time.Time
	// Deleted marks a chat message deleted by a later delete: its Text is
	// gone from the store and is empty. Stores set it; it is ignored on
	// Append.
	Deleted bool
	// Reactions are a chat message's reactions, in the order each emoji
	// was first given. Stores set them; they are ignored on Append. On a
	// reaction that Append tallied (Tally), they are its target's.
	Reactions []Reaction
	// Mentions are the keys of the users a chat message or an edit
	// mentions, for Append to record (see Mention); reads leave it empty.
	Mentions []string
	// Unmentions, on an edit, are the keys of the users whose names its
	// text no longer gives: Append removes their mentions of the target,
	// read or not, as a delete removes all of them.
	Unmentions []string
	// Tally is set by a successful Append on the reactions of its batch
	// that end a run (ReactionRunEnds): their Reactions are then their
	// target's reactions just after them (none if the target is gone or
	// deleted). Append sets them in the caller's slice; reads never do.
	Tally bool
	// ReplyTo, on a chat message, is the Seq of the message it answers
	// (quotes); 0 if none. Thread is the Seq of the root of the thread it
	// is a reply in; 0 if none. AlsoRoom marks a thread reply that is
	// shown in the room as well. Stores keep them as given.
	ReplyTo  uint64
	Thread   uint64
	AlsoRoom bool
	// Summary is the summary of the thread rooted at a chat message.
	// Stores set it; it is ignored on Append.
	Summary ThreadSummary
}

// ThreadSummary says how many thread replies a root has and which is the
// newest. A store keeps it in the transaction that stores a reply: a chat
// message whose Thread names a chat message of its room that is not in a
// thread itself counts on it, deleted or not, so that the summary always
// counts the replies that the thread lists.
type ThreadSummary struct {
	Replies       int
	LastReply     uint64    // Seq of the newest reply
	LastReplyTime time.Time // its Time
}

// Reaction is one emoji given to a message: how many users give it, and
// the first of them, in the order they did.
type Reaction struct {
	Emoji string
	// Count is how many users give the emoji.
	Count int
	// Users names the first ReactionUsersListed of them, in the order they
	// gave it: all of them when Count is at most that. A store reads no
	// more, so that reading a popular message's reactions costs the same
	// however many users gave them.
	Users []string
}

// ReactionUsersListed bounds the users a Reaction names.
const ReactionUsersListed = 20

// Change says what a stored message does to its room's conversation.
// Every change is itself a message of the room's sequence, with its own
// Seq, so that a client replaying the sequence sees it in order.
type Change string

const (
	// ChangeNone is a new chat message.
	ChangeNone Change = ""
	// ChangeEdit replaces the Text of the chat message Target with its own
	// and sets the target's Edited to its Time. A deleted target stays
	// deleted.
	ChangeEdit Change = "edit"
	// ChangeDelete deletes the chat message Target: its text, and the text
	// of every edit of it, is removed from the store (the rows stay, with
	// empty Text, and both the target and its edits are marked Deleted).
	// A change never targets a change: one that does changes nothing.
	ChangeDelete Change = "delete"
	// ChangeReact adds From's reaction Text (an emoji) to the chat message
	// Target, unless it is there already or the target is deleted. A
	// delete removes its target's reactions.
	ChangeReact Change = "react"
	// ChangeUnreact removes From's reaction Text from the chat message
	// Target, if it is there.
	ChangeUnreact Change = "unreact"
)

// AttachReaction adds user, one of the first users who give emoji (count
// of them in all), to the reactions of the chat message of msgs, which
// are in seq order, whose Seq is target, if there is one. Stores read
// the listed users of each emoji in the order they gave it, and the emoji
// in the order of their first listed user, and attach them with it.
func AttachReaction(msgs []Message, target uint64, emoji string, count int, user string) {
	i, ok := slices.BinarySearchFunc(msgs, target, func(m Message, seq uint64) int { return cmp.Compare(m.Seq, seq) })
	if ok && msgs[i].Change == ChangeNone {
		msgs[i].Reactions = ListReaction(msgs[i].Reactions, emoji, count, user)
	}
}

// ListReaction returns rs with user listed among the users of emoji,
// which count users give, the emoji added after the others if it is new.
func ListReaction(rs []Reaction, emoji string, count int, user string) []Reaction {
	for i := range rs {
		if rs[i].Emoji == emoji {
			rs[i].Users = append(rs[i].Users, user)
			return rs
		}
	}
	return append(rs, Reaction{Emoji: emoji, Count: count, Users: []string{user}})
}

// Store keeps chat history durably. Implementations are safe for concurrent
// use by multiple goroutines; every method but Close takes a context that
// bounds how long it may wait.
type Store interface {
	// Append stores msgs durably in one transaction: all of them or none.
	// msgs may span rooms; within a room their Seq must be increasing and
	// above the room's LastSeq, or Append stores nothing and returns an
	// error wrapping ErrSeqConflict. Append returns only after the
	// transaction is committed; what survives a crash after that is
	// documented by each adapter. Appending no messages does nothing.
	Append(ctx context.Context, msgs []Message) error

	// LastSeq is the highest Seq ever stored for room, also after retention
	// removed the message, or 0 if none was. It never decreases, also across
	// restarts, so a caller that continues a room's sequence from LastSeq+1
	// never reuses a number.
	LastSeq(ctx context.Context, room string) (uint64, error)

	// After returns up to limit messages of room with Seq > after, in
	// ascending order of Seq (recovery, forward paging). A limit of 0 or
	// less returns no messages.
	After(ctx context.Context, room string, after uint64, limit int) ([]Message, error)

	// Before returns the newest up to limit messages of room with
	// Seq < before, in ascending order of Seq (scrollback). before == 0 means
	// no bound: the newest messages of the room. A limit of 0 or less returns
	// no messages.
	Before(ctx context.Context, room string, before uint64, limit int) ([]Message, error)

	// ReactionsBy returns the emoji that user gives to room's message
	// target, in the order given; none if the message has no reaction of
	// theirs or is not stored. Its cost does not grow with the reactions
	// of other users, which Reaction lists only the first of, so that a
	// reaction's limits can be checked exactly during a storm of them.
	ReactionsBy(ctx context.Context, room string, target uint64, user string) ([]string, error)

	// ThreadAfter returns up to limit replies of the thread rooted at
	// room's message root (the chat messages whose Thread is root) with
	// Seq > after, in ascending order of Seq; ThreadBefore returns the
	// newest up to limit with Seq < before (0: no bound), in ascending
	// order too. Replies are in their current state, like After's.
	ThreadAfter(ctx context.Context, room string, root, after uint64, limit int) ([]Message, error)
	ThreadBefore(ctx context.Context, room string, root, before uint64, limit int) ([]Message, error)

	// Oldest is the lowest Seq still retained for room, or 0 if it holds no
	// message, so that callers can say that retention removed part of a
	// range.
	Oldest(ctx context.Context, room string) (uint64, error)

	// FindClientMsg finds the message that from sent to room with the id
	// clientMsgID, for idempotent retries across restarts. If the author
	// reused the id, the newest such message is returned; callers that
	// dedup only within a window compare its Time. An empty clientMsgID
	// matches nothing. ok is false when no retained message matches.
	FindClientMsg(ctx context.Context, room, from, clientMsgID string) (msg Message, ok bool, err error)

	// Trim applies retention and returns how many messages it deleted. It
	// deletes, in each room, the oldest messages while they are older than
	// maxAge at now (maxAge 0: no age limit) or beyond the newest
	// maxPerRoom (maxPerRoom 0: no count limit). It removes a prefix of each
	// room's sequence, and the changes of the messages in it, which it
	// counts (see the package doc), and deletes in small
	// transactions, so that Append is never held up for long.
	Trim(ctx context.Context, now time.Time, maxAge time.Duration, maxPerRoom int) (int64, error)

	// SetRead records that user has read room up to seq. A position only
	// ever moves forward: a seq at or below the recorded one is ignored.
	SetRead(ctx context.Context, user, room string, seq uint64) error

	// ReadPositions returns the read position of user in every room it has
	// one, by room; an empty map if none.
	ReadPositions(ctx context.Context, user string) (map[string]uint64, error)

	// Mentions returns user's mentions, newest first: up to limit of
	// those with an ID below before (0: no bound). A limit of 0 or less
	// returns none.
	Mentions(ctx context.Context, user string, before int64, limit int) ([]Mention, error)

	// UnreadMentions returns, by room, the At of user's mentions above its
	// read position in the room (SetRead), in ascending order: the newest
	// max of each room. Rooms without one are absent.
	UnreadMentions(ctx context.Context, user string, max int) (map[string][]uint64, error)

	// MessageMentions returns the users chat message seq of room mentions,
	// by key, with the At of each; an empty map if none.
	MessageMentions(ctx context.Context, room string, seq uint64) (map[string]uint64, error)

	// Ping reports whether the store can be read and written now, cheaply
	// enough to be asked every few seconds: it fails when the database is
	// unreachable, closed or read-only.
	Ping(ctx context.Context) error

	// Close releases the store's connections and locks. It waits for
	// nothing but the calls already in progress; calls after Close return
	// errors. Close is idempotent.
	Close() error
}

// Sequencer is a Store that can number messages itself, inside the
// transaction that stores them, so that several chatd processes sharing
// one database (a cluster) give each room one sequence: writers of a room
// are serialised by the store, and a number is never given twice nor
// skipped. A single process numbers messages itself and uses Append.
type Sequencer interface {
	Store
	// AppendNumbered stores msgs durably in one transaction like Append,
	// but ignores their Seq: each message gets the next number of its
	// room, in the order of msgs, and AppendNumbered sets msgs[i].Seq once
	// the transaction has committed. On error nothing was stored (as far
	// as the store could tell) and the Seq fields are meaningless. Numbers
	// continue from LastSeq, whoever appended before, and Append may be
	// mixed with it.
	//
	// A message that repeats one stored by AppendNumbered (same Room, From
	// and non-empty ClientMsgID), by any process, earlier or in a
	// transaction committing at the same time, is not stored again and
	// takes no number: msgs[i] becomes the original (its Seq and Time) and
	// i is in repeats, in ascending order.
	AppendNumbered(ctx context.Context, msgs []Message) (repeats []int, err error)

	// LastSeqs returns LastSeq of each of rooms in one round trip; a room
	// with none stored is absent from the map.
	LastSeqs(ctx context.Context, rooms []string) (map[string]uint64, error)
}

// ErrSchemaTooNew is returned (wrapped) by an adapter's Open for a database
// whose schema was migrated by a newer chatd than this one: this binary
// does not know the schema, and must not write to it.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this chatd supports")

// ErrSeqConflict is returned (wrapped) by Append when a message's Seq is
// not above its room's LastSeq, not increasing within the batch, 0, or
// above math.MaxInt64. Nothing of the batch was stored.
var ErrSeqConflict = errors.New("store: sequence number already used or out of order")
