package protocol_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/protocol"
)

func TestMessageSizeIsTheEncodedSize(t *testing.T) {
	texts := []string{
		"", "hello", strings.Repeat("<", 70000), `"quoted" \back\`, "tab\tnew\nline\r",
		"\x00\x01\x1f\x7f", "<script>&amp;</script>", "héllo wörld 日本", "\u2028\u2029", "\xff\xfe", "😀",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		for _, id := range []string{"", "c-1"} {
			for _, m := range []protocol.Message{
				{Type: protocol.TypeMessage, Room: "r", Seq: 12345, From: "alice", TS: 1795658400123, Text: text, ClientMsgID: id},
				{Type: protocol.TypeMessage, Room: "r", Seq: 9, From: "alice", TS: 1795658400123, Text: text, ClientMsgID: id, Edited: 1795658400999},
				{Type: protocol.TypeMessage, Room: "r", Seq: 9, From: "alice", TS: 1795658400123, ClientMsgID: id, Deleted: true},
				{Type: protocol.TypeEdit, Room: "r", Seq: 12346, Target: 12345, From: "alice", TS: 1795658400123, Text: text, ClientMsgID: id},
				{Type: protocol.TypeDelete, Room: "r", Seq: 12347, Target: 12345, From: "alice", TS: 1795658400123, ClientMsgID: id},
				{Type: protocol.TypeReact, Room: "r", Seq: 12348, Target: 12345, From: "alice", TS: 1795658400123, ClientMsgID: id, Emoji: "👍🏽"},
				{Type: protocol.TypeUnreact, Room: "r", Seq: 12349, Target: 12345, From: "al\"ice", TS: 1795658400123, ClientMsgID: id, Emoji: ":tada:"},
				{Type: protocol.TypeMessage, Room: "r", Seq: 9, From: "alice", TS: 1795658400123, Text: text, ClientMsgID: id, Reactions: []protocol.Reaction{
					{Emoji: "👍", Count: 1234, Users: []string{"bob", "c\"arol"}}, {Emoji: ":tada:", Count: 1, Users: []string{"dave"}}}},
				{Type: protocol.TypeMessage, Room: "r", Seq: 12350, From: "alice", TS: 1795658400123, Text: text, ClientMsgID: id, ReplyTo: 12345, Thread: 7, AlsoRoom: true},
				{Type: protocol.TypeMessage, Room: "r", Seq: 7, From: "alice", TS: 1795658400123, Text: text, ReplyTo: 3, Replies: 1234, LastReplySeq: 12350, LastReplyTS: 1795658400999},
			} {
				if got, want := protocol.MessageSize(&m), frameSize(protocol.AppendJSON(nil, m)); got != want {
					t.Errorf("MessageSize of %s with text %q = %d, encoded %d", m.Type, trim(text), got, want)
				}
			}
		}
	}
}

// frameSize is the length of a server's text frame carrying payload, as
// the WebSocket library the server frames with counts it.
func frameSize(payload []byte) int {
	return ws.HeaderSize(ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(payload))}) + len(payload)
}

func TestJSONDoesNotEscapeHTML(t *testing.T) {
	text := strings.Repeat("<", 1000) + "&>"
	frame := protocol.AppendJSON(nil, protocol.Message{Type: protocol.TypeMessage, Text: text})
	if len(frame) > len(text)+100 {
		t.Fatalf("a message of %d bytes of '<' takes %d bytes of JSON", len(text), len(frame))
	}
	if !strings.Contains(string(frame), text) {
		t.Fatal("the text is not in the frame as it was sent")
	}
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
