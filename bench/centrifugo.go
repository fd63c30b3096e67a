package bench

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gobwas/ws"
)

// Centrifugo mode speaks the subset of Centrifugo's JSON client protocol
// (v2, the one of Centrifugo v4 to v6) that a benchmark needs. On connect a
// client sends, in one frame,
//
//	{"id":1,"connect":{"name":"chatbench"}}
//	{"id":2,"subscribe":{"channel":"bench"}}
//
// (the server must allow anonymous clients to subscribe and publish), then
// publishes each text as a JSON string:
//
//	-> {"id":3,"publish":{"channel":"bench","data":"<payload>"}}
//	<- {"id":3,"publish":{}}   the answer, counted as an ack
//	<- {"push":{"channel":"bench","pub":{"data":"<payload>",...}}}   to every subscriber, the sender too
//
// Every publish has id 3: the server answers a connection's commands in
// order, which is all the ack count needs. An empty object from the server
// is its ping, answered with an empty object. Several replies and pushes
// may share a frame, one per line. As in JSON mode, the payloads hold no
// quote or backslash, so the fields are found without a JSON decoder.

// centrifugoPublishID is the id of every publish command.
const centrifugoPublishID = "3"

var (
	centrifugoPush    = []byte(`{"push":`)
	centrifugoPublish = []byte(`{"id":` + centrifugoPublishID + `,`)
	centrifugoPing    = []byte(`{}`)
	keyData           = []byte(`"data":"`)
	keyError          = []byte(`"error":`)
)

// centrifugoHello returns the connect and subscribe commands for channel
// room.
func centrifugoHello(room string) []byte {
	ch, _ := json.Marshal(room) // a string always encodes
	return fmt.Appendf(nil, `{"id":1,"connect":{"name":"chatbench"}}`+"\n"+`{"id":2,"subscribe":{"channel":%s}}`, ch)
}

// centrifugoSendPrefix returns what comes before the text in a publish
// command to channel room; centrifugoSendSuffix comes after it.
func centrifugoSendPrefix(room string) []byte {
	ch, _ := json.Marshal(room)
	return fmt.Appendf(nil, `{"id":%s,"publish":{"channel":%s,"data":"`, centrifugoPublishID, ch)
}

var centrifugoSendSuffix = []byte(`"}}`)

// centrifugoEvent accounts for one reply or push and returns the data of a
// publication, to be handled as a plain-mode line.
func (c *client) centrifugoEvent(ev []byte, now int64) (text []byte, isMsg bool) {
	switch {
	case bytes.Equal(ev, centrifugoPing):
		c.writeControl(ws.OpText, centrifugoPing)
	case bytes.HasPrefix(ev, centrifugoPush):
		text, ok := stringField(ev, keyData)
		if !ok {
			c.st.other++ // a join, leave or other push: not asked for
		}
		return text, ok
	case bytes.Contains(ev, keyError):
		if bytes.HasPrefix(ev, centrifugoPublish) {
			c.response(false)
		}
		c.serverError(ev, now)
	case bytes.HasPrefix(ev, centrifugoPublish):
		c.response(true)
	}
	// The answers to connect and subscribe need nothing: the probes tell
	// when the subscription is live.
	return nil, false
}
