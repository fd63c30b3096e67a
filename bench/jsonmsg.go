package bench

import "bytes"

// A chat message event as chatd writes it to every recipient, fields in
// protocol.Message's order, without client_msg_id (chatbench sends none)
// or reply fields:
//
//	{"type":"message","room":"<room>","seq":<n>,"from":"<name>","ts":<ms>,"text":"<text>"}
//
// chatbench's texts are all of one length, the run's Size, so the text of
// such an event is found at a known offset from its end, and its type and
// room at known offsets from its start: chatdMessage compares a few bytes
// in place where eventType, messageText and the room's check search.
var (
	msgHead = []byte(`{"type":"message","room":"`)
	msgText = []byte(`,"text":"`)
	msgEnd  = []byte(`"}`)
)

// chatdMessage returns the text of ev when ev is a message event of the
// form above to room (in any case) whose text is size bytes and holds no
// quote or backslash: what a JSON decoder would give for such an event as
// chatd's encoder writes it. ok is false for any other event, which is
// left to the general path (a probe's text, another length, a message of
// another room, any other type).
func chatdMessage(ev, room []byte, size int) (text []byte, ok bool) {
	head := len(msgHead) + len(room)
	start := len(ev) - len(msgEnd) - size
	if start-len(msgText) < head+1 ||
		!bytes.HasPrefix(ev, msgHead) || !bytes.EqualFold(ev[len(msgHead):head], room) || ev[head] != '"' ||
		!bytes.Equal(ev[start-len(msgText):start], msgText) || !bytes.HasSuffix(ev, msgEnd) {
		return nil, false
	}
	text = ev[start : len(ev)-len(msgEnd)]
	if bytes.IndexByte(text, '"') >= 0 || bytes.IndexByte(text, '\\') >= 0 {
		return nil, false
	}
	return text, true
}
