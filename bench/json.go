package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Subprotocol is the WebSocket subprotocol of chatd's JSON protocol, asked
// for in JSON mode.
const Subprotocol = "chatd.v1"

// JSON mode speaks the subset of chatd.v1 that a benchmark needs:
//
//	-> {"type":"send","room":"bench","text":"<payload>"}
//	<- {"type":"ack","request":"send","room":"bench","seq":7,"ts":"..."}   to the sender
//	<- {"type":"message","room":"bench","seq":7,"from":"guest-3","ts":"...","text":"<payload>"}   to the others
//
// plus "welcome" on connect, "presence_diff" and "typing", which are ignored, and
// "error", which is counted. The events are read without a JSON decoder:
// the payloads hold no quote or backslash, and the field names looked for
// cannot occur inside a JSON string (its quotes would be escaped).

var (
	typeFirst  = []byte(`{"type":"`)
	keyType    = []byte(`"type":"`)
	keyText    = []byte(`"text":"`)
	keyRoom    = []byte(`"room":"`)
	keyCode    = []byte(`"code":"`)
	keyNumCode = []byte(`"code":`)
)

// maxServerErrorText is how much of the first error event is kept.
const maxServerErrorText = 300

// sendPrefix returns what comes before the text in a send request to room;
// sendSuffix comes after it.
func sendPrefix(room string) []byte {
	r, _ := json.Marshal(room) // a string always encodes
	return fmt.Appendf(nil, `{"type":"send","room":%s,"text":"`, r)
}

var sendSuffix = []byte(`"}`)

// stringField returns the value of the string field whose `"name":"` is key
// in the JSON object b, up to the next quote: the raw value when it holds no
// escaped quote.
func stringField(b, key []byte) ([]byte, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return nil, false
	}
	v := b[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return nil, false
	}
	return v[:j], true
}

// numberField returns the digits of the number field whose `"name":` is
// key in the JSON object b, or nil.
func numberField(b, key []byte) []byte {
	i := bytes.Index(b, key)
	if i < 0 {
		return nil
	}
	v := b[i+len(key):]
	j := 0
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	return v[:j]
}

// eventType returns the event's type. chatd writes it first, so it is
// looked for at the start before anywhere else.
func eventType(ev []byte) ([]byte, bool) {
	if v, ok := bytes.CutPrefix(ev, typeFirst); ok {
		if j := bytes.IndexByte(v, '"'); j >= 0 {
			return v[:j], true
		}
	}
	return stringField(ev, keyType)
}

// messageText returns the text of a message event. chatd writes the text
// last unless the sender gave a client_msg_id, which chatbench does not, and
// the payload holds no quote: so the text is looked for from the end,
// where it is found without a scan of the fields before it.
func messageText(ev []byte) ([]byte, bool) {
	if body, ok := bytes.CutSuffix(ev, []byte(`"}`)); ok {
		if q := bytes.LastIndexByte(body, '"'); q >= 0 && bytes.HasSuffix(body[:q+1], keyText) {
			return body[q+1:], true
		}
	}
	return stringField(ev, keyText)
}

// event accounts for one JSON event and returns the text of a "message"
// event, to be handled as a plain-mode line.
func (c *client) event(ev []byte, now int64) (text []byte, isMsg bool) {
	if text, ok := chatdMessage(ev, c.room, c.r.cfg.Size); ok {
		c.noteTarget(ev)
		return text, true
	}
	typ, ok := eventType(ev)
	if !ok {
		c.st.other++
		return nil, false
	}
	if c.r.storm.on && c.stormEvent(typ, ev) {
		if string(typ) == "error" {
			c.serverError(ev, now)
		}
		return nil, false
	}
	switch string(typ) {
	case "message":
		if room, ok := stringField(ev, keyRoom); ok && !bytes.EqualFold(room, c.room) { // room names are case-insensitive
			c.st.misrouted++
			return nil, false
		}
		c.noteTarget(ev)
		text, ok = messageText(ev)
		if !ok {
			c.st.other++
		}
		return text, ok
	case "ack":
		c.response(true)
	case "error":
		c.response(false)
		c.serverError(ev, now)
	case "welcome", "presence_diff", "typing", "dm":
	default:
		c.st.other++
	}
	return nil, false
}

// response accounts for the answer (ack or error) to a request of this
// connection. chatd answers each request once, in order: the first answers
// are those of the probes, then come those of the sender's messages in the
// order of their seq.
func (c *client) response(ack bool) {
	c.responses++
	seq := c.responses - c.probes.Load()
	sid := c.senderID.Load()
	if !ack || seq <= 0 || sid < 0 {
		return
	}
	first := c.r.senders[sid].firstMeasured.Load()
	if first > 0 && seq >= first {
		c.st.acks++
	}
}

// serverError counts an error event by its code and keeps the first one.
func (c *client) serverError(ev []byte, now int64) {
	c.st.serverErrors++
	if c.firstErr == "" {
		c.firstErr = string(ev[:min(len(ev), maxServerErrorText)])
		c.firstErrAt = now
	}
	code, ok := stringField(ev, keyCode)
	if !ok {
		code = numberField(ev, keyNumCode) // Centrifugo's codes are numbers
	}
	n := c.errCodes[string(code)]
	if n == nil {
		if c.errCodes == nil {
			c.errCodes = make(map[string]*int64)
		}
		n = new(int64)
		c.errCodes[string(code)] = n
	}
	*n++
}
