package protocol_test

import (
	"math/rand/v2"
	"strings"
	"testing"

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
			m := protocol.Message{Type: protocol.TypeMessage, Room: "r", Seq: 12345, From: "alice", TS: 1795658400123, Text: text, ClientMsgID: id}
			if got, want := protocol.MessageSize(&m), len(protocol.JSONFrame(m)); got != want {
				t.Errorf("MessageSize of text %q = %d, encoded %d", trim(text), got, want)
			}
		}
	}
}

func TestJSONFrameDoesNotEscapeHTML(t *testing.T) {
	text := strings.Repeat("<", 1000) + "&>"
	frame := protocol.JSONFrame(protocol.Message{Type: protocol.TypeMessage, Text: text})
	if len(frame) > len(text)+100 {
		t.Fatalf("a message of %d bytes of '<' takes a frame of %d bytes", len(text), len(frame))
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
