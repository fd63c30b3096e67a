package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/server"
)

// decodedMessage is what a JSON decoder reads from ev.
func decodedMessage(t testing.TB, ev []byte) protocol.Message {
	t.Helper()
	var m protocol.Message
	if err := json.Unmarshal(ev, &m); err != nil {
		t.Fatalf("decode %s: %v", ev, err)
	}
	return m
}

// checkChatdMessage runs chatdMessage on ev, an event chatd's encoder
// wrote, and checks that what it accepts is what the decoder reads and
// that it accepts ev when want.
func checkChatdMessage(t testing.TB, ev []byte, room string, size int, want bool) {
	t.Helper()
	text, ok := chatdMessage(ev, []byte(room), size)
	if ok != want {
		t.Fatalf("chatdMessage(%s, %q, %d): ok %v, want %v", ev, room, size, ok, want)
	}
	if !ok {
		return
	}
	m := decodedMessage(t, ev)
	if m.Type != protocol.TypeMessage || !strings.EqualFold(m.Room, room) || string(text) != m.Text {
		t.Fatalf("chatdMessage(%s) = %q; the decoder reads type %q room %q text %q", ev, text, m.Type, m.Room, m.Text)
	}
}

func TestChatdMessageAgreesWithTheDecoder(t *testing.T) {
	text := string(appendMsg(nil, 3, 17, 1795842149182000000, 12345, 64))
	msg := func(f func(*protocol.Message)) []byte {
		m := protocol.Message{Type: protocol.TypeMessage, Room: "bench", Seq: 42, From: "guest-12", TS: 1795842149182, Text: text}
		if f != nil {
			f(&m)
		}
		return protocol.AppendJSON(nil, m)
	}
	for _, tc := range []struct {
		name string
		ev   []byte
		room string
		size int
		want bool
	}{
		{"a chat message", msg(nil), "bench", 64, true},
		{"the room asked for in another case", msg(nil), "Bench", 64, true},
		{"another room", msg(func(m *protocol.Message) { m.Room = "bench-2" }), "bench", 64, false},
		{"a room with the asked one as its prefix", msg(func(m *protocol.Message) { m.Room = "benchx" }), "bench", 64, false},
		{"a text of another length", msg(nil), "bench", 63, false},
		{"a text longer than the event", msg(nil), "bench", 4096, false},
		{"a probe", msg(func(m *protocol.Message) { m.Text = "chatbench probe 12345 0 1" }), "bench", 64, false},
		{"a client_msg_id after the text", msg(func(m *protocol.Message) { m.ClientMsgID = "c1" }), "bench", 64, false},
		{"a reply", msg(func(m *protocol.Message) { m.ReplyTo = 7 }), "bench", 64, false},
		{"an edit", msg(func(m *protocol.Message) { m.Type = protocol.TypeEdit; m.Target = 3 }), "bench", 64, false},
		{"an escaped quote", msg(func(m *protocol.Message) { m.Text = text[:62] + `"` }), "bench", 64, false},
		{"an escaped backslash", msg(func(m *protocol.Message) { m.Text = text[:62] + `\` }), "bench", 64, false},
		{"a control character", msg(func(m *protocol.Message) { m.Text = text[:58] + "\x01" }), "bench", 64, false},
		{"a text with an inner field's shape", msg(func(m *protocol.Message) { m.Text = `x","text":"` + text[:52] }), "bench", 52, false},
		{"an ack", protocol.AppendJSON(nil, protocol.Ack{Type: protocol.TypeAck, Request: "send", Room: "bench", Seq: 42}), "bench", 64, false},
		{"an empty event", nil, "bench", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkChatdMessage(t, tc.ev, tc.room, tc.size, tc.want)
		})
	}
}

// FuzzChatdMessage encodes message events with chatd's encoder and checks
// that chatdMessage reads what the decoder reads, and reads every event
// whose text is the asked length and written as it is.
func FuzzChatdMessage(f *testing.F) {
	f.Add("bench", "bench", uint64(1), "guest-1", int64(1795842149182), string(appendMsg(nil, 0, 1, 1e18, 7, 64)), "", 64)
	f.Add("bench-3", "Bench-3", uint64(1<<40), "alice", int64(0), "hi", "", 2)
	f.Add("bench", "bench", uint64(9), "bob", int64(1), `a"b\c`, "", 5)
	f.Add("bench", "bench", uint64(9), "bob", int64(1), "hé\u2028", "m-1", 8)
	f.Fuzz(func(t *testing.T, room, asked string, seq uint64, from string, ts int64, text, clientMsgID string, size int) {
		if size < 0 || size > 1<<16 {
			return
		}
		m := protocol.Message{Type: protocol.TypeMessage, Room: room, Seq: seq, From: from, TS: ts, Text: text, ClientMsgID: clientMsgID}
		ev := protocol.AppendJSON(nil, m)
		textAsIs := bytes.HasSuffix(ev, []byte(`,"text":"`+text+`"}`)) && !strings.ContainsAny(text, `"\`)
		roomAsIs := bytes.HasPrefix(ev, []byte(`{"type":"message","room":"`+room+`"`)) && !strings.ContainsAny(room, `"\`)
		want := textAsIs && roomAsIs && len(text) == size && strings.EqualFold(room, asked)
		checkChatdMessage(t, ev, asked, size, want)
	})
}

// TestChatdMessageReadsChatdsEvents sends a chatbench text through a real
// chatd and checks that its message event, as the other member receives
// it, takes chatdMessage's path.
func TestChatdMessageReadsChatdsEvents(t *testing.T) {
	srv := servertest.Start(t, server.Config{SendRate: -1, SendByteRate: -1})
	// dial opens a connection to the room, its reads taking first what
	// the handshake read ahead.
	dial := func() io.ReadWriter {
		d := ws.Dialer{Protocols: []string{Subprotocol}}
		conn, br, _, err := d.Dial(servertest.Context(t), srv.URL()+"?room=Bench")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		rw := struct {
			io.Reader
			io.Writer
		}{conn, conn}
		if br != nil {
			rw.Reader = io.MultiReader(br, conn)
		}
		return rw
	}
	// next returns the next event of type typ that conn receives.
	next := func(conn io.ReadWriter, typ string) []byte {
		for {
			ev, err := wsutil.ReadServerText(conn)
			if err != nil {
				t.Fatalf("no %s event: %v", typ, err)
			}
			if got, _ := eventType(ev); string(got) == typ {
				return ev
			}
		}
	}
	recv := dial()
	next(recv, protocol.TypeWelcome) // a member of the room from here on
	send := dial()
	text := appendMsg(nil, 0, 1, time.Now().UnixNano(), 12345, 64)
	req := fmt.Appendf(nil, `{"type":"send","room":"bench","text":"%s"}`, text)
	if err := wsutil.WriteClientText(send, req); err != nil {
		t.Fatal(err)
	}
	ev := next(recv, protocol.TypeMessage)
	got, ok := chatdMessage(ev, []byte("Bench"), len(text))
	if !ok || !bytes.Equal(got, text) {
		t.Fatalf("chatdMessage(%s) = %q, %v; want %q", ev, got, ok, text)
	}
	checkChatdMessage(t, ev, "Bench", len(text), true)
}

// TestJSONMessageOfAnotherRoomIsMisrouted: a message event naming a room
// other than the receiver's is counted as misrouted, not delivered, in
// any case of the room's name.
func TestJSONMessageOfAnotherRoomIsMisrouted(t *testing.T) {
	r := &run{cfg: Config{Size: 64}, tag: 12345, json: true, senders: make([]senderState, 2), sampleCap: 16}
	r.mEnd.Store(math.MaxInt64)
	c := &client{r: r, lastSeq: make([]int64, 2), recv: make([]int64, 2), room: []byte("Bench")}
	c.senderID.Store(-1)
	for i, room := range []string{"bench", "other", "BENCH", "bench-2"} {
		text := string(appendMsg(nil, 1, int64(i+1), 1e18, r.tag, 64))
		c.handle(protocol.AppendJSON(nil, protocol.Message{Type: protocol.TypeMessage, Room: room, Seq: uint64(i + 1), From: "guest-1", TS: 1, Text: text}), 1e18+1)
	}
	if c.st.delivered != 2 || c.st.misrouted != 2 || c.st.other != 0 {
		t.Errorf("delivered %d, misrouted %d, other %d; want 2, 2, 0", c.st.delivered, c.st.misrouted, c.st.other)
	}
}
