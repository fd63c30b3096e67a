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
	Node        string    `json:"node"`
	Room        string    `json:"room"`
	Seq         uint64    `json:"seq"`
	From        string    `json:"from"`
	Text        []byte    `json:"text"`
	ClientMsgID []byte    `json:"cmid,omitempty"`
	Time        time.Time `json:"time"`
}

func encodeNotice(node string, m store.Message) ([]byte, error) {
	return json.Marshal(notice{Node: node, Room: m.Room, Seq: m.Seq, From: m.From, Text: []byte(m.Text),
		ClientMsgID: []byte(m.ClientMsgID), Time: m.Time})
}

func decodeNotice(data []byte) (string, store.Message, error) {
	var n notice
	if err := json.Unmarshal(data, &n); err != nil {
		return "", store.Message{}, fmt.Errorf("decode notice: %w", err)
	}
	if n.Room == "" || n.Seq == 0 {
		return "", store.Message{}, fmt.Errorf("decode notice: no room or seq")
	}
	return n.Node, store.Message{Room: n.Room, Seq: n.Seq, From: n.From, Text: string(n.Text),
		ClientMsgID: string(n.ClientMsgID), Time: n.Time}, nil
}
