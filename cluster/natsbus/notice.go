package natsbus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatd/chatd/store"
)

// notice is one stored message as it travels between nodes. Text and the
// client's id are bytes, as the store keeps them: they may be any bytes,
// which a JSON string could not carry unchanged.
type notice struct {
	Kind        noticeKind `json:"kind,omitempty"`
	Node        string     `json:"node"`
	Room        string     `json:"room"`
	Seq         uint64     `json:"seq,omitempty"`
	From        string     `json:"from,omitempty"`
	Text        []byte     `json:"text,omitempty"`
	ClientMsgID []byte     `json:"cmid,omitempty"`
	Time        time.Time  `json:"time,omitzero"`
	// Committed, on a stored message, is when the origin announced it,
	// as soon as its commit was reported, by the origin's clock: the
	// receiver measures the relay's latency from it.
	Committed time.Time `json:"committed,omitzero"`
	// Change and Target, on a stored message, say that it edits or
	// deletes the room's message Target.
	Change store.Change `json:"change,omitempty"`
	Target uint64       `json:"target,omitempty"`
	// ReplyTo, Thread and AlsoRoom, on a stored message, say what it
	// answers and the thread it is a reply in.
	ReplyTo  uint64 `json:"reply_to,omitempty"`
	Thread   uint64 `json:"thread,omitempty"`
	AlsoRoom bool   `json:"also_room,omitempty"`
	// Present and Gone (presence, roster) are users present in the room
	// on the sending node, by user, with their names, and users gone.
	Present map[string]string `json:"present,omitempty"`
	Gone    []string          `json:"gone,omitempty"`
}

// noticeKind tells what a room's notice is.
type noticeKind string

const (
	kindMessage  noticeKind = ""         // a stored message
	kindPresence noticeKind = "presence" // users became present or left, on the sender
	kindHello    noticeKind = "hello"    // the sender follows the room now: send your rosters
	kindRoster   noticeKind = "roster"   // everyone present on the sender
	kindTyping   noticeKind = "typing"   // From is typing
)

func encodeNotice(node string, m store.Message, committed time.Time) ([]byte, error) {
	return json.Marshal(notice{Node: node, Room: m.Room, Seq: m.Seq, From: m.From, Text: []byte(m.Text),
		ClientMsgID: []byte(m.ClientMsgID), Time: m.Time, Committed: committed, Change: m.Change, Target: m.Target,
		ReplyTo: m.ReplyTo, Thread: m.Thread, AlsoRoom: m.AlsoRoom})
}

func decodeNotice(data []byte) (notice, error) {
	var n notice
	if err := json.Unmarshal(data, &n); err != nil {
		return n, fmt.Errorf("decode notice: %w", err)
	}
	if n.Room == "" || n.Kind == kindMessage && n.Seq == 0 {
		return n, fmt.Errorf("decode notice: no room or seq")
	}
	return n, nil
}

func (n *notice) message() store.Message {
	return store.Message{Room: n.Room, Seq: n.Seq, From: n.From, Text: string(n.Text),
		ClientMsgID: string(n.ClientMsgID), Time: n.Time, Change: n.Change, Target: n.Target,
		ReplyTo: n.ReplyTo, Thread: n.Thread, AlsoRoom: n.AlsoRoom}
}
