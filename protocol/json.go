package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SubprotocolV1 is the WebSocket subprotocol of chatd's JSON protocol. A
// client that offers it in Sec-WebSocket-Protocol speaks JSON; a client that
// offers nothing speaks plain text.
const SubprotocolV1 = "chatd.v1"

// Request types a JSON client may send.
const (
	TypeJoin    = "join"
	TypeLeave   = "leave"
	TypeSend    = "send"
	TypeRooms   = "rooms"
	TypeWho     = "who"
	TypeTyping  = "typing"
	TypeDM      = "dm"
	TypeHistory = "history"
	TypeRead    = "read"
	// TypeAuth presents a fresh token on an open connection, to extend a
	// signed-in connection's life without reconnecting.
	TypeAuth = "auth"
	// TypeCreate creates a room with an owner, private or public.
	TypeCreate = "create"
	// TypeInvite and TypeRemove let a private room's owner add and remove
	// members; TypeMembers lists them.
	TypeInvite  = "invite"
	TypeRemove  = "remove"
	TypeMembers = "members"
	// TypeEdit replaces the text of one's own message; TypeDelete deletes
	// it (a private room's owner may delete any message in the room).
	// Both are also the types of the events that carry the changes.
	TypeEdit   = "edit"
	TypeDelete = "delete"
	// TypeReact adds the user's reaction (an emoji) to a message;
	// TypeUnreact removes it. Both are also the types of the events that
	// carry them.
	TypeReact   = "react"
	TypeUnreact = "unreact"
)

// Event types the server sends to JSON clients.
const (
	TypeWelcome = "welcome"
	TypeAck     = "ack"
	TypeError   = "error"
	TypeMessage = "message"
	// TypePresenceDiff tells a room's members who joined and who left.
	TypePresenceDiff = "presence_diff"
	// TypeReactions carries a message's reactions after a run of
	// reactions to it, in place of the run's react and unreact events.
	TypeReactions = "reactions"
	// TypeInvited tells a user it was made a member of a private room.
	TypeInvited = "invited"
	// TypeRemoved tells a user's connections that they were taken out of a
	// private room by its owner.
	TypeRemoved = "removed"
	// TypeTyping and TypeDM are also event types.
)

// MaxIDLen bounds request ids and client message ids.
const MaxIDLen = 64

// MaxTokenLen bounds a token: chatd's own are 70 bytes, a JWT with a few
// room grants a few hundred.
const MaxTokenLen = 4096

// Request is one JSON request. Which fields are required depends on Type;
// DecodeRequest checks them.
type Request struct {
	Type        string  `json:"type"`
	ID          string  `json:"id,omitempty"`
	Room        string  `json:"room,omitempty"`
	To          string  `json:"to,omitempty"`
	Text        *string `json:"text,omitempty"`
	ClientMsgID string  `json:"client_msg_id,omitempty"`
	// Since (join) recovers a room: every message after this sequence
	// number is replayed before live ones.
	Since *uint64 `json:"since,omitempty"`
	// History (join) replays the newest History messages; absent means
	// the server's default.
	History *int `json:"history,omitempty"`
	// Seq (read) is the sequence number read up to.
	Seq uint64 `json:"seq,omitempty"`
	// Before, After and Limit page through a room's history. After is a
	// pointer because 0 is a position (before the first message), not
	// "absent"; Before 0 means no bound, as it always has.
	Before uint64  `json:"before,omitempty"`
	After  *uint64 `json:"after,omitempty"`
	Limit  int     `json:"limit,omitempty"`
	// Token (auth) is the new token of a signed-in connection.
	Token string `json:"token,omitempty"`
	// Private (create) makes the room private: members only.
	Private bool `json:"private,omitempty"`
	// Cursor (rooms, who) continues a list that an ack cut short: the
	// ack's Cursor.
	Cursor string `json:"cursor,omitempty"`
	// Target (edit, delete, react, unreact) is the sequence number of the
	// message to change.
	Target uint64 `json:"target,omitempty"`
	// Emoji (react, unreact) is the reaction: see ValidEmoji.
	Emoji string `json:"emoji,omitempty"`
	// Around (history) asks for the messages around this sequence
	// number, itself included.
	Around uint64 `json:"around,omitempty"`
	// Q (search) is the words to search for; From, Order and, in epoch
	// milliseconds, After and Before filter and order the hits.
	Q     string `json:"q,omitempty"`
	From  string `json:"from,omitempty"`
	Order string `json:"order,omitempty"`
	// ReplyTo (send) is the seq of the message the new one answers.
	// Thread (send) makes it a reply in the thread of the message Thread,
	// shown in the room too if AlsoRoom; Thread (history) pages that
	// thread's replies instead of the room.
	ReplyTo  uint64 `json:"reply_to,omitempty"`
	Thread   uint64 `json:"thread,omitempty"`
	AlsoRoom bool   `json:"also_room,omitempty"`
}

// Error codes, stable and machine-readable. docs/protocol.md explains each.
const (
	CodeBadRequest    = "bad_request"    // malformed JSON, a missing or wrongly typed field
	CodeUnknownType   = "unknown_type"   // a request type this server does not know
	CodeInvalidRoom   = "invalid_room"   // a room name that breaks the naming rules
	CodeUnknownRoom   = "unknown_room"   // who for a room nobody is in
	CodeNotMember     = "not_member"     // send, typing or leave for a room not joined
	CodeRoomLimit     = "room_limit"     // joining one room more than the limit allows
	CodeRateLimited   = "rate_limited"   // sending faster than the rate limit allows
	CodeUnknownUser   = "unknown_user"   // dm to a user who is not connected
	CodeUnreachable   = "unreachable"    // dm to a user with no JSON connection
	CodeUnavailable   = "unavailable"    // history is not kept, or the store failed
	CodeUnauthorized  = "unauthorized"   // auth with a token that is invalid, expired or revoked
	CodeForbidden     = "forbidden"      // a private room for a non-member, an owner's request by another user
	CodeConflict      = "conflict"       // create for a room that exists
	CodeRoomQuota     = "room_quota"     // create by a user who owns as many rooms as allowed
	CodeNotFound      = "not_found"      // edit or delete of a message that is not there, was deleted, or is itself a change
	CodeReactionLimit = "reaction_limit" // a react beyond MaxReactionEmojis on a message or MaxUserReactions by a user
	CodeBadThread     = "bad_thread"     // a thread reply to a message in a thread, a reply to a message outside the sender's thread or room view
)

// ErrorCodes lists every error code, for documentation and metrics.
var ErrorCodes = []string{
	CodeBadRequest, CodeUnknownType, CodeInvalidRoom, CodeUnknownRoom, CodeNotMember,
	CodeRoomLimit, CodeRateLimited, CodeUnknownUser, CodeUnreachable, CodeUnavailable,
	CodeUnauthorized, CodeForbidden, CodeConflict, CodeRoomQuota, CodeNotFound, CodeReactionLimit,
	CodeBadThread,
}

// Error is a protocol error answered to one request; the connection stays open.
type Error struct {
	Code    string
	Message string
	// RetryAfterMS, for rate_limited, is how long to wait before the same
	// request would be accepted, in milliseconds.
	RetryAfterMS int64
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Needs is the set of fields a request type requires. The server declares
// each request type's Needs beside its handler, and DecodeRequest checks
// them, in the order of the constants below.
type Needs uint8

// The fields a request type may require.
const (
	// NeedsRoom requires room. A room given to any request type is
	// normalised and must be a valid name.
	NeedsRoom Needs = 1 << iota
	// NeedsRange checks history, limit, before and after where given:
	// none negative, and not both before and after.
	NeedsRange
	NeedsTo   // requires to
	NeedsText // requires text, which may be empty
	NeedsSeq  // requires seq above 0
	// NeedsToken requires token, of at most MaxTokenLen bytes.
	NeedsToken
	NeedsTarget // requires target above 0
	// NeedsEmoji requires emoji, valid by ValidEmoji.
	NeedsEmoji
)

// DecodeRequest parses and validates one JSON request. needs tells the
// request types the server knows and what each requires; a type it does
// not know is refused with CodeUnknownType. The returned request's ID is
// set whenever the input carried a readable id, even when validation
// fails, so that the error can be matched to the request. Unknown fields
// are ignored, so that newer clients can talk to older servers.
func DecodeRequest(b []byte, needs func(typ string) (Needs, bool)) (Request, *Error) {
	var r Request
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return r, Errorf(CodeBadRequest, "field %q must be a %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return r, Errorf(CodeBadRequest, "a request is one JSON object: %v", err)
	}
	if dec.More() {
		return r, Errorf(CodeBadRequest, "a request is one JSON object, followed by nothing")
	}
	if len(r.ID) > MaxIDLen {
		r.ID = ""
		return r, Errorf(CodeBadRequest, "id is longer than %d bytes", MaxIDLen)
	}
	if len(r.ClientMsgID) > MaxIDLen {
		return r, Errorf(CodeBadRequest, "client_msg_id is longer than %d bytes", MaxIDLen)
	}
	if r.Type == "" {
		return r, Errorf(CodeBadRequest, "a request needs the field \"type\"")
	}
	n, ok := needs(r.Type)
	if !ok {
		return r, Errorf(CodeUnknownType, "unknown request type %q", r.Type)
	}
	if e := r.check(n); e != nil {
		return r, e
	}
	if r.Room != "" {
		room, err := NormalizeRoom(r.Room)
		if err != nil {
			return r, Errorf(CodeInvalidRoom, "%v", err)
		}
		r.Room = room
	}
	return r, nil
}

// check refuses r if it lacks a field that n requires.
func (r *Request) check(n Needs) *Error {
	has := func(x Needs) bool { return n&x != 0 }
	switch {
	case has(NeedsRoom) && r.Room == "":
		return r.missing("room")
	case has(NeedsRange) && (r.History != nil && *r.History < 0 || r.Limit < 0):
		return Errorf(CodeBadRequest, "history and limit must not be negative")
	case has(NeedsRange) && (r.Before > 0 && r.After != nil || r.Around > 0 && (r.Before > 0 || r.After != nil)):
		return Errorf(CodeBadRequest, "give one of before, after and around")
	case has(NeedsTo) && r.To == "":
		return r.missing("to")
	case has(NeedsText) && r.Text == nil:
		return r.missing("text")
	case has(NeedsSeq) && r.Seq == 0:
		return r.missing("seq")
	case has(NeedsToken) && r.Token == "":
		return r.missing("token")
	case has(NeedsToken) && len(r.Token) > MaxTokenLen:
		return Errorf(CodeBadRequest, "token is longer than %d bytes", MaxTokenLen)
	case has(NeedsTarget) && r.Target == 0:
		return r.missing("target")
	case has(NeedsEmoji) && r.Emoji == "":
		return r.missing("emoji")
	case has(NeedsEmoji) && !ValidEmoji(r.Emoji):
		return Errorf(CodeBadRequest, "emoji must be a :name: or one Unicode emoji, of at most %d bytes", MaxEmojiLen)
	case r.AlsoRoom && r.Thread == 0:
		return Errorf(CodeBadRequest, "also_room needs the field \"thread\"")
	}
	return nil
}

func (r *Request) missing(field string) *Error {
	return Errorf(CodeBadRequest, "%s needs the field %q", r.Type, field)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string", "ptr":
		return "string"
	}
	return goKind
}

// Events the server sends. Each is encoded once and shared by every
// recipient; fields that do not apply are omitted.

// Welcome is the first event on a JSON connection.
type Welcome struct {
	Type     string `json:"type"`
	Protocol string `json:"protocol"`
	Name     string `json:"name"`
	Session  string `json:"session"`
	// Auth says how the connection is signed in: AuthGuest, AuthAccount
	// or AuthJWT.
	Auth string `json:"auth"`
	// Expires is when a signed-in connection's token expires, in epoch
	// milliseconds; the server closes it then with CloseUnauthorized
	// unless the client sent a fresh token with an auth request.
	Expires int64  `json:"expires,omitempty"`
	Limits  Limits `json:"limits"`
	// Reads are the user's read positions, room to sequence number, when
	// another connection of the same user set some.
	Reads map[string]uint64 `json:"reads,omitempty"`
	// UnreadMentions are, by room, the seqs of the events that mentioned
	// a signed-in user above its read position, ascending, the newest
	// UnreadMentionsListed of each room.
	UnreadMentions map[string][]uint64 `json:"unread_mentions,omitempty"`
}

// How a connection is signed in (Welcome.Auth).
const (
	AuthGuest   = "guest"   // no account: a name held while connected
	AuthAccount = "account" // a chatd account, by a login token
	AuthJWT     = "jwt"     // a user of an external application, by its JWT
)

// Invited tells a user that it was made a member of a private room.
type Invited struct {
	Type string `json:"type"`
	Room string `json:"room"`
	From string `json:"from"`
}

// Removed tells a user's connections that the room's owner took them out
// of a private room; they are no longer in it.
type Removed struct {
	Type string `json:"type"`
	Room string `json:"room"`
	By   string `json:"by"`
}

// Read tells a user's connections how far the user has read a room.
type Read struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Seq  uint64 `json:"seq"`
}

// Limits tells a client what the server accepts.
type Limits struct {
	MaxMessageBytes int     `json:"max_message_bytes"`
	MaxRooms        int     `json:"max_rooms"`
	SendRate        float64 `json:"send_rate"`
	SendBurst       int     `json:"send_burst"`
	// SendByteRate and SendByteBurst bound the bytes of messages sent,
	// as their recipients receive them; 0 means no limit.
	SendByteRate  float64 `json:"send_byte_rate"`
	SendByteBurst int     `json:"send_byte_burst"`
}

// Message is an event of a room's sequence: a chat message (TypeMessage),
// or a change to an earlier one (TypeEdit, TypeDelete) that names it in
// Target. A change has a sequence number of its own like a message. An
// edit's Text is the target's new text; a delete's is empty.
type Message struct {
	Type        string `json:"type"`
	Room        string `json:"room"`
	Seq         uint64 `json:"seq"`
	From        string `json:"from"`
	TS          int64  `json:"ts"` // milliseconds since the Unix epoch
	Text        string `json:"text"`
	ClientMsgID string `json:"client_msg_id,omitempty"`
	// Target (edit, delete) is the seq of the message changed.
	Target uint64 `json:"target,omitempty"`
	// Edited and Deleted give the current state of a chat message read
	// from history (a join's replay, a history page): when its text was
	// last edited, in epoch milliseconds, and whether it was deleted (its
	// text is then empty). A deleted edit's text is empty too.
	Edited  int64 `json:"edited,omitempty"`
	Deleted bool  `json:"deleted,omitempty"`
	// Emoji (react, unreact) is the reaction added to or removed from
	// Target by From.
	Emoji string `json:"emoji,omitempty"`
	// Reactions are a chat message's reactions read from history, in the
	// order each emoji was first given.
	Reactions []Reaction `json:"reactions,omitempty"`
	// ReplyTo is the seq of the message a chat message answers. Thread is
	// the seq of the root of the thread a chat message is a reply in; such
	// a reply belongs in the thread's view, and in the room's only if
	// AlsoRoom.
	ReplyTo  uint64 `json:"reply_to,omitempty"`
	Thread   uint64 `json:"thread,omitempty"`
	AlsoRoom bool   `json:"also_room,omitempty"`
	// Replies, LastReplySeq and LastReplyTS summarise the thread of a
	// root read from history: how many replies it has, and the seq and
	// time (epoch milliseconds) of the newest. A client keeps it current
	// from the thread replies it receives, counting one only if its seq
	// is above LastReplySeq.
	Replies      int    `json:"replies,omitempty"`
	LastReplySeq uint64 `json:"last_reply_seq,omitempty"`
	LastReplyTS  int64  `json:"last_reply_ts,omitempty"`
}

// DM is a direct message between two users.
type DM struct {
	Type        string `json:"type"`
	ID          uint64 `json:"id"`
	From        string `json:"from"`
	To          string `json:"to"`
	TS          int64  `json:"ts"` // milliseconds since the Unix epoch
	Text        string `json:"text"`
	ClientMsgID string `json:"client_msg_id,omitempty"`
}

// PresenceDiff tells a room's members which users joined and which left
// since the last diff, and how many users are present. A room's changes
// are coalesced: its members receive at most one diff per presence
// interval, and a user who joined and left in between is in neither list.
type PresenceDiff struct {
	Type   string   `json:"type"`
	Room   string   `json:"room"`
	Joins  []string `json:"joins,omitempty"`
	Leaves []string `json:"leaves,omitempty"`
	Users  int      `json:"users"` // users present after the diff
}

// Typing reports that a user is typing in a room.
type Typing struct {
	Type string `json:"type"`
	Room string `json:"room"`
	From string `json:"from"`
}

// Ack answers a request that succeeded. Which result fields are set
// depends on the request.
type Ack struct {
	Type      string `json:"type"`
	ID        string `json:"id,omitempty"`
	Request   string `json:"request"`
	Room      string `json:"room,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
	TS        int64  `json:"ts,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	// Lists a reply promises are set, empty or not, and omitted only when
	// nil: a client must not take "no rooms" for "no answer".
	Members []string   `json:"members,omitzero"`
	Rooms   []RoomInfo `json:"rooms,omitzero"`
	// Join: the numbers are pointers so that a join ack carries them even
	// when they are 0 (an empty room, nothing read), while other acks
	// leave them out.
	Replayed *int        `json:"replayed,omitempty"` // messages replayed before this ack
	Last     *uint64     `json:"last,omitempty"`     // the room's last sequence number so far
	Read     *uint64     `json:"read,omitempty"`     // the user's read position in the room
	Missing  bool        `json:"missing,omitempty"`  // retention removed some of what was asked for
	More     bool        `json:"more,omitempty"`     // a limit cut the answer short; page on
	Messages []Message   `json:"messages,omitzero"`  // history replies
	Hits     []SearchHit `json:"hits,omitzero"`      // search replies
	Expires  int64       `json:"expires,omitempty"`  // auth: when the new token expires, epoch ms
	Private  bool        `json:"private,omitempty"`  // create: the room is private
	Cursor   string      `json:"cursor,omitempty"`   // rooms, who with More: ask again with it for the next page
	// Users (join, who) counts the users present, of whom Members may
	// list only the first.
	Users int `json:"users,omitempty"`
}

// RoomInfo is one entry of a rooms reply.
type RoomInfo struct {
	Room    string `json:"room"`
	Members int    `json:"members"`
	// Private marks a private room, listed only to its members.
	Private bool `json:"private,omitempty"`
}

// ErrorEvent answers a request that failed.
type ErrorEvent struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfterMS, for rate_limited, says when to send the request again.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// Millis is the timestamp of every event: milliseconds since the Unix
// epoch, as JavaScript's Date and most chat APIs count them. An integer is
// about half the bytes of an RFC 3339 string, on every delivery.
func Millis(t time.Time) int64 {
	return t.UnixMilli()
}

// AppendJSON appends v encoded as every event is sent, and returns the
// extended slice. Text is not HTML-escaped: clients render it as text,
// never as HTML, and escaping would make a message of '<' characters six
// times longer on the wire than the sender's frame.
func AppendJSON(dst []byte, v any) []byte {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unsupported types fail, and every event type is plain data.
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	b := buf.Bytes()
	return b[:len(b)-1] // Encode ends the value with a newline
}
