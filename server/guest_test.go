package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestAGuestKeepsItsNameAcrossAReconnect(t *testing.T) {
	defer server.SetGuestGrace(300 * time.Millisecond)()
	ts := servertest.Start(t, server.Config{})
	first := dialJSON(t, ts, "")
	name, session := first.welcome["name"].(string), first.welcome["session"].(string)
	first.do(`{"type":"join","id":"j","room":"lobby"}`)
	first.do(`{"type":"read","id":"r","room":"lobby","seq":1}`)
	chosen := dialJSON(t, ts, "name=zoe")
	zoeSession := chosen.welcome["session"].(string)
	// Going away (a reload, a lost network) is not goodbye.
	first.ws.Close(websocket.StatusGoingAway, "")
	chosen.ws.CloseNow()
	servertest.WaitFor(t, "both to go", func() bool { return ts.Stats().Conns == 0 })

	// Within the grace, the names are still theirs: a reload with the
	// session token gets them back, with the read positions; others do not.
	if status, _ := dialRefused(t, ts, "name=zoe", nil); status != http.StatusConflict {
		t.Fatalf("zoe taken by another within the grace: %d", status)
	}
	if c := dialJSON(t, ts, "name="+name); c.welcome["name"] == name {
		t.Fatalf("%s taken without its token: %v", name, c.welcome)
	}
	back := dialJSON(t, ts, "name="+name+"&session="+session)
	if back.welcome["name"] != name {
		t.Fatalf("reconnect with the token: %v", back.welcome)
	}
	if reads, _ := back.welcome["reads"].(map[string]any); reads["lobby"] != float64(1) {
		t.Fatalf("read positions after the reconnect: %v", back.welcome)
	}
	// A direct message to a guest in its grace says it is not connected.
	if r := back.request(`{"type":"dm","id":"d","to":"zoe","text":"hi"}`); r["code"] != "unknown_user" {
		t.Fatalf("dm to a disconnected guest: %v", r)
	}

	// After the grace the name is free for anyone.
	var other *websocket.Conn
	servertest.WaitFor(t, "zoe's grace to pass", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, wsURL(ts, "name=zoe"), &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
		other = c
		return err == nil
	})
	newZoe := &jsonClient{client: &client{t: t, ws: other}}
	t.Cleanup(func() { other.CloseNow() })
	if w := newZoe.expect("welcome"); w["name"] != "zoe" || w["session"] == zoeSession {
		t.Fatalf("the new zoe: %v", w)
	}
}

func TestAPlainClientComesBackWithItsNameAtOnce(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	// Plain clients never see a session token, so nobody could claim the
	// name back after they go: it is free as soon as the server notices.
	zed := dial(t, ts, "name=zed")
	zed.ws.CloseNow()
	servertest.WaitFor(t, "zed to go", func() bool { return ts.Stats().Conns == 0 })
	again := dial(t, ts, "name=zed")
	// A plain client that says goodbye frees the name before its close
	// handshake completes.
	again.ws.Close(websocket.StatusNormalClosure, "")
	dial(t, ts, "name=zed")
}

func TestAJSONClientThatSaysGoodbyeFreesItsNameAtOnce(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	for range 2 {
		bot := dialJSON(t, ts, "name=deploy-bot&room=ci")
		if bot.welcome["name"] != "deploy-bot" {
			t.Fatalf("welcome: %v", bot.welcome)
		}
		bot.ws.Close(websocket.StatusNormalClosure, "")
	}
	// Without a goodbye the name stays reserved for its token.
	held := dialJSON(t, ts, "name=deploy-bot")
	held.ws.CloseNow()
	servertest.WaitFor(t, "deploy-bot to go", func() bool { return ts.Stats().Conns == 0 })
	if status, _ := dialRefused(t, ts, "name=deploy-bot", nil); status != http.StatusConflict {
		t.Fatalf("a name held for its token, taken by another: %d", status)
	}
}
