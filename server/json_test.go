package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestWelcomeNamesTheClient(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	guest := dialJSON(t, ts, "")
	if name, _ := guest.welcome["name"].(string); !strings.HasPrefix(name, "guest-") {
		t.Fatalf("guest name %q", name)
	}
	alice := dialJSON(t, ts, "name=Alice")
	w := alice.welcome
	if w["name"] != "Alice" || w["protocol"] != "chatd.v1" || w["session"] == "" {
		t.Fatalf("welcome %v", w)
	}
	if lim, _ := w["limits"].(map[string]any); lim["max_message_bytes"] != float64(64<<10) {
		t.Fatalf("limits %v", w["limits"])
	}
}

// TestRequests covers every request type and every error code, each answered
// with exactly one reply that carries the request's id.
func TestRequests(t *testing.T) {
	cases := []struct {
		name  string
		cfg   server.Config
		setup []string // requests that must succeed first
		req   string
		want  string // "ack" or an error code
		noID  bool   // the request's id cannot be read back
		check func(t *testing.T, reply map[string]any)
	}{
		{name: "join", req: `{"type":"join","id":"1","room":"Go"}`, want: "ack", check: func(t *testing.T, r map[string]any) {
			if r["room"] != "go" || fmt.Sprint(r["members"]) != "[me]" {
				t.Fatalf("reply %v", r)
			}
		}},
		{name: "join twice", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"join","id":"1","room":"go"}`, want: "ack"},
		{name: "leave", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"leave","id":"1","room":"go"}`, want: "ack"},
		{name: "leave unjoined", req: `{"type":"leave","id":"1","room":"go"}`, want: "not_member"},
		{name: "send", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"send","id":"1","room":"go","text":"hi"}`, want: "ack", check: func(t *testing.T, r map[string]any) {
			if r["seq"] != float64(1) || r["ts"].(float64) < 1.7e12 {
				t.Fatalf("reply %v", r)
			}
		}},
		{name: "send empty text", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"send","id":"1","room":"go","text":""}`, want: "ack"},
		{name: "send unjoined", req: `{"type":"send","id":"1","room":"go","text":"hi"}`, want: "not_member"},
		{name: "send without text", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"send","id":"1","room":"go"}`, want: "bad_request"},
		{name: "send text not a string", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"send","id":"1","room":"go","text":42}`, want: "bad_request"},
		{name: "read", setup: []string{`{"type":"join","room":"go"}`, `{"type":"send","room":"go","text":"x"}`}, req: `{"type":"read","id":"1","room":"go","seq":1}`, want: "ack"},
		{name: "read unjoined", req: `{"type":"read","id":"1","room":"go","seq":1}`, want: "not_member"},
		{name: "read without seq", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"read","id":"1","room":"go"}`, want: "bad_request"},
		{name: "rooms", setup: []string{`{"type":"join","room":"go"}`, `{"type":"join","room":"rust"}`}, req: `{"type":"rooms","id":"1"}`, want: "ack", check: func(t *testing.T, r map[string]any) {
			if fmt.Sprint(r["rooms"]) != "[map[members:1 room:go] map[members:1 room:rust]]" {
				t.Fatalf("rooms %v", r["rooms"])
			}
		}},
		{name: "who", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"who","id":"1","room":"go"}`, want: "ack"},
		{name: "who in an empty room", req: `{"type":"who","id":"1","room":"nobody-here"}`, want: "unknown_room"},
		{name: "typing", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"typing","id":"1","room":"go"}`, want: "ack"},
		{name: "typing unjoined", req: `{"type":"typing","id":"1","room":"go"}`, want: "not_member"},
		{name: "dm to nobody", req: `{"type":"dm","id":"1","to":"ghost","text":"boo"}`, want: "unknown_user"},
		{name: "dm to self", req: `{"type":"dm","id":"1","to":"ME","text":"note to self"}`, want: "ack"},
		{name: "dm without to", req: `{"type":"dm","id":"1","text":"x"}`, want: "bad_request"},
		{name: "malformed json", req: `{"type":"join","id":"1",`, want: "bad_request", noID: true},
		{name: "not an object", req: `["join"]`, want: "bad_request", noID: true},
		{name: "two objects", req: `{"type":"rooms","id":"1"}{"type":"rooms"}`, want: "bad_request"},
		{name: "missing type", req: `{"id":"1","room":"go"}`, want: "bad_request"},
		{name: "unknown type", req: `{"type":"shout","id":"1"}`, want: "unknown_type"},
		{name: "missing room", req: `{"type":"join","id":"1"}`, want: "bad_request"},
		{name: "who without room", req: `{"type":"who","id":"1"}`, want: "bad_request"},
		{name: "create without room", req: `{"type":"create","id":"1"}`, want: "bad_request"},
		{name: "history with a negative limit", req: `{"type":"history","id":"1","room":"go","limit":-1}`, want: "bad_request"},
		{name: "join with a negative history", req: `{"type":"join","id":"1","room":"go","history":-1}`, want: "bad_request"},
		{name: "send with a negative history", setup: []string{`{"type":"join","room":"go"}`}, req: `{"type":"send","id":"1","room":"go","text":"hi","history":-1}`, want: "ack"},
		{name: "invite without to", req: `{"type":"invite","id":"1","room":"go"}`, want: "bad_request"},
		{name: "remove without to", req: `{"type":"remove","id":"1","room":"go"}`, want: "bad_request"},
		{name: "dm without text", req: `{"type":"dm","id":"1","to":"me"}`, want: "bad_request"},
		{name: "auth without token", req: `{"type":"auth","id":"1"}`, want: "bad_request"},
		{name: "room wrongly typed", req: `{"type":"join","id":"1","room":["go"]}`, want: "bad_request"},
		{name: "invalid room", req: `{"type":"join","id":"1","room":"no spaces"}`, want: "invalid_room"},
		{name: "id too long", req: `{"type":"rooms","id":"` + strings.Repeat("i", 65) + `"}`, want: "bad_request", noID: true},
		{name: "room limit", cfg: server.Config{MaxRooms: 1}, setup: []string{`{"type":"join","room":"a"}`}, req: `{"type":"join","id":"1","room":"b"}`, want: "room_limit"},
		{name: "rate limited", cfg: server.Config{SendRate: 0.001, SendBurst: 1}, setup: []string{`{"type":"join","room":"go"}`, `{"type":"send","room":"go","text":"1"}`}, req: `{"type":"send","id":"1","room":"go","text":"2"}`, want: "rate_limited"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t, tc.cfg)
			c := dialJSON(t, ts, "name=me")
			for _, s := range tc.setup {
				c.do(s)
			}
			reply := c.request(tc.req)
			got, _ := reply["code"].(string)
			if reply["type"] == "ack" {
				got = "ack"
			}
			if got != tc.want {
				t.Fatalf("reply %v, want %s", reply, tc.want)
			}
			if !tc.noID && reply["id"] != "1" {
				t.Fatalf("reply %v does not carry the request id", reply)
			}
			if tc.check != nil {
				tc.check(t, reply)
			}
			// Exactly one reply, and the connection still works.
			if r := c.request(`{"type":"rooms","id":"after"}`); r["id"] != "after" {
				t.Fatalf("next reply %v: the connection lost its place", r)
			}
		})
	}
}

func TestPlainAndJSONClientsShareARoom(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	j := dialJSON(t, ts, "room=mixed&name=json")
	p := dial(t, ts, "room=mixed&name=plain")
	servertest.WaitFor(t, "plain client joined", func() bool { return ts.Stats().Conns == 2 })
	if ev := j.expect("presence_diff"); fmt.Sprint(ev["joins"]) != "[plain]" || ev["users"] != float64(2) {
		t.Fatalf("presence %v", ev)
	}

	p.send("from plain")
	m := j.expect("message")
	if m["room"] != "mixed" || m["from"] != "plain" || m["text"] != "from plain" || m["seq"] != float64(1) || m["ts"].(float64) < 1.7e12 {
		t.Fatalf("json client got %v", m)
	}
	ack := j.do(`{"type":"send","room":"mixed","text":"from json"}`)
	if ack["seq"] != float64(2) {
		t.Fatalf("ack %v, want seq 2", ack)
	}
	if got := p.read(); got != "from json" {
		t.Fatalf("plain client got %q", got)
	}
	p.expectSilence(50 * time.Millisecond) // no acks, presence or JSON for plain clients
}

func TestOneConnectionInManyRooms(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	j := dialJSON(t, ts, "name=hub")
	j.do(`{"type":"join","room":"a"}`)
	j.do(`{"type":"join","room":"b"}`)
	pa := dial(t, ts, "room=a")
	pb := dial(t, ts, "room=b")
	servertest.WaitFor(t, "plain clients joined", func() bool { return ts.Stats().Conns == 3 })
	pa.send("in a")
	pb.send("in b")
	got := []string{j.expect("message")["room"].(string), j.expect("message")["room"].(string)}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("messages from rooms %v", got)
	}
	j.do(`{"type":"leave","room":"a"}`)
	pa.send("after leaving")
	pb.send("still in b")
	if m := j.expect("message"); m["text"] != "still in b" {
		t.Fatalf("got %v after leaving a", m)
	}
}

func TestPresenceCountsAUserWithTwoConnectionsOnce(t *testing.T) {
	ts := servertest.Start(t, server.Config{PresenceInterval: 50 * time.Millisecond})
	watcher := dialJSON(t, ts, "room=r&name=watcher")
	phone := dialJSON(t, ts, "room=r&name=alice")
	token := phone.welcome["session"].(string)
	if ev := watcher.expect("presence_diff"); fmt.Sprint(ev["joins"]) != "[alice]" || ev["users"] != float64(2) {
		t.Fatalf("presence %v", ev)
	}
	laptop := dialJSON(t, ts, "room=r&name=ALICE&session="+token)
	if laptop.welcome["name"] != "alice" {
		t.Fatalf("second connection named %v, want the held name", laptop.welcome["name"])
	}
	who := watcher.do(`{"type":"who","room":"r"}`)
	if fmt.Sprint(who["members"]) != "[alice watcher]" {
		t.Fatalf("who %v", who["members"])
	}
	phone.ws.Close(websocket.StatusNormalClosure, "")
	watcher.do(`{"type":"rooms"}`) // a barrier: no leave may have come before this ack
	laptop.ws.Close(websocket.StatusNormalClosure, "")
	if ev := watcher.expect("presence_diff"); fmt.Sprint(ev["leaves"]) != "[alice]" || ev["users"] != float64(1) {
		t.Fatalf("presence %v", ev)
	}
}

func TestHeldNamesNeedTheSessionToken(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	dialJSON(t, ts, "name=bob")
	for _, q := range []string{"name=bob", "name=BOB", "name=bob&session=wrong"} {
		status, body := httpGet(t, "http://"+ts.Addr+"/ws?"+q, http.Header{
			"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="},
		})
		if status != http.StatusConflict || !strings.Contains(body, "session token") {
			t.Fatalf("%s: %d %q, want 409", q, status, body)
		}
	}
}

func TestGuestNamesAreGivenByTheServer(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	first := dialJSON(t, ts, "")
	name := first.welcome["name"].(string)
	second := dialJSON(t, ts, "name="+name+"&session="+first.welcome["session"].(string))
	if second.welcome["name"] != name {
		t.Fatalf("with its token the guest became %v, want %s", second.welcome["name"], name)
	}
	for _, q := range []string{"name=" + name, "name=" + name + "&session=wrong", "name=guest-999999"} {
		other := dialJSON(t, ts, q)
		if got := other.welcome["name"]; got == name || got == "guest-999999" {
			t.Fatalf("%s: a guest name was taken without its token: %v", q, got)
		}
	}
}

func TestDirectMessagesReachEveryConnectionOfBothUsers(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	bob1 := dialJSON(t, ts, "name=bob")
	bob2 := dialJSON(t, ts, "name=bob&session="+bob1.welcome["session"].(string))
	alice1 := dialJSON(t, ts, "name=alice")
	alice2 := dialJSON(t, ts, "name=alice&session="+alice1.welcome["session"].(string))
	bystander := dialJSON(t, ts, "name=carol")
	dial(t, ts, "name=plainpete")
	servertest.WaitFor(t, "pete connected", func() bool { return ts.Stats().Conns == 6 })
	if r := alice1.request(`{"type":"dm","id":"x","to":"plainpete","text":"hello?"}`); r["code"] != "unreachable" {
		t.Fatalf("dm to a plain-only user: %v", r)
	}

	alice1.do(`{"type":"dm","to":"Bob","text":"psst","client_msg_id":"d1"}`)
	for i, c := range []*jsonClient{bob1, bob2, alice2} {
		dm := c.expect("dm")
		if dm["from"] != "alice" || dm["to"] != "bob" || dm["text"] != "psst" || dm["client_msg_id"] != "d1" {
			t.Fatalf("connection %d got %v", i, dm)
		}
	}
	// expectSilence ends a connection, so these come last.
	bystander.expectSilence(50 * time.Millisecond)
	alice1.expectSilence(50 * time.Millisecond) // the sender has its ack
}

func TestResendWithTheSameClientMsgIDIsDeliveredOnce(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	sender := dialJSON(t, ts, "room=r&name=s")
	recv := dialJSON(t, ts, "room=r&name=r")
	sender.expect("presence_diff")

	first := sender.do(`{"type":"send","room":"r","text":"once","client_msg_id":"abc"}`)
	retry := sender.do(`{"type":"send","room":"r","text":"once","client_msg_id":"abc"}`)
	if retry["duplicate"] != true || retry["seq"] != first["seq"] || retry["ts"] != first["ts"] {
		t.Fatalf("retry ack %v, first %v", retry, first)
	}
	other := sender.do(`{"type":"send","room":"r","text":"twice","client_msg_id":"def"}`)
	if other["seq"] != float64(2) {
		t.Fatalf("next ack %v", other)
	}
	if m := recv.expect("message"); m["text"] != "once" || m["client_msg_id"] != "abc" {
		t.Fatalf("got %v", m)
	}
	if m := recv.expect("message"); m["text"] != "twice" {
		t.Fatalf("got %v, want the next message, not the retry", m)
	}
}

func TestTypingIsForwardedAndCoalesced(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	typist := dialJSON(t, ts, "room=r&name=typist")
	other := dialJSON(t, ts, "room=r&name=other")
	typist.expect("presence_diff")
	for range 5 {
		typist.do(`{"type":"typing","room":"r"}`)
	}
	typist.do(`{"type":"send","room":"r","text":"done typing"}`)
	next := func() map[string]any { // the diff of other's own join may come in between
		for {
			if ev := other.event(); ev["type"] != "presence_diff" {
				return ev
			}
		}
	}
	if ev := next(); ev["type"] != "typing" || ev["from"] != "typist" || ev["room"] != "r" {
		t.Fatalf("got %v, want one typing event", ev)
	}
	if ev := next(); ev["type"] != "message" {
		t.Fatalf("got %v, want the message after a single typing event", ev)
	}
}

func TestRepeatedAbuseClosesWith1008(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	c := dialJSON(t, ts, "room=r")
	for i := range 25 { // not a member of elsewhere: refused every time
		c.send(fmt.Sprintf(`{"type":"send","room":"elsewhere","text":"%d"}`, i))
	}
	c.expectClose(websocket.StatusPolicyViolation, "refused requests")
}

func TestPlainClientsAreSlowedNotRefused(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: 50, SendBurst: 1})
	cs := dialMany(t, ts, 2, "room=slow")
	begin := time.Now()
	for i := range 10 {
		cs[0].send(fmt.Sprint(i))
	}
	for i := range 10 {
		if got := cs[1].read(); got != fmt.Sprint(i) {
			t.Fatalf("got %q, want %d", got, i)
		}
	}
	if d := time.Since(begin); d < 150*time.Millisecond {
		t.Fatalf("10 messages at 50/s took only %v", d)
	}
}

func TestASubprotocolListGetsChatdV1IfItOffersIt(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	for _, tc := range []struct {
		offer  []string
		status int    // of a refusal; 0 when the upgrade succeeds
		chosen string // the subprotocol the server selects
	}{
		{offer: []string{"chatd.v1"}, chosen: "chatd.v1"},
		{offer: []string{"chatd.v2", "chatd.v1"}, chosen: "chatd.v1"},
		{offer: []string{"chatd.v1", "mqtt"}, chosen: "chatd.v1"},
		{offer: nil, chosen: ""},
		{offer: []string{"mqtt"}, status: http.StatusBadRequest},
		{offer: []string{"chatd.v2", "mqtt"}, status: http.StatusBadRequest},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, resp, err := websocket.Dial(ctx, wsURL(ts, ""), &websocket.DialOptions{Subprotocols: tc.offer})
		cancel()
		if tc.status != 0 {
			if err == nil || resp == nil || resp.StatusCode != tc.status {
				t.Errorf("offer %q: %v %v, want %d", tc.offer, err, resp, tc.status)
			}
			if c != nil {
				c.CloseNow()
			}
			continue
		}
		if err != nil {
			t.Errorf("offer %q: %v", tc.offer, err)
			continue
		}
		if got := c.Subprotocol(); got != tc.chosen {
			t.Errorf("offer %q: server chose %q, want %q", tc.offer, got, tc.chosen)
		}
		c.CloseNow()
	}
}

func TestReadPositionIsSharedByAUsersConnections(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: -1})
	phone := dialJSON(t, ts, "room=r&name=alice")
	token := phone.welcome["session"].(string)
	laptop := dialJSON(t, ts, "room=r&name=alice&session="+token)
	bob := dialJSON(t, ts, "room=r&name=bob")
	for i := range 5 {
		bob.do(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
	}
	if ack := phone.do(`{"type":"read","room":"r","seq":3}`); ack["seq"] != float64(3) {
		t.Fatalf("read ack %v", ack)
	}
	ev := laptop.event()
	for ev["type"] == "message" || ev["type"] == "presence_diff" {
		ev = laptop.event()
	}
	if ev["type"] != "read" || ev["room"] != "r" || ev["seq"] != float64(3) {
		t.Fatalf("laptop got %v", ev)
	}
	if ack := laptop.do(`{"type":"read","room":"r","seq":2}`); ack["seq"] != float64(3) {
		t.Fatalf("a read position moved back: %v", ack)
	}
	tablet := dialJSON(t, ts, "name=alice&session="+token)
	if fmt.Sprint(tablet.welcome["reads"]) != "map[r:3]" {
		t.Fatalf("welcome reads %v", tablet.welcome["reads"])
	}
	if ack := tablet.do(`{"type":"join","room":"r"}`); ack["read"] != float64(3) {
		t.Fatalf("join ack %v", ack)
	}
}
