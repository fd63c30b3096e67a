package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/server"
)

func TestAGuestKeepsItsNameAcrossAReconnect(t *testing.T) {
	defer server.SetGuestGrace(300 * time.Millisecond)()
	ts := start(t, server.Config{})
	first := dialJSON(t, ts, "")
	name, session := first.welcome["name"].(string), first.welcome["session"].(string)
	first.do(`{"type":"join","id":"j","room":"lobby"}`)
	first.do(`{"type":"read","id":"r","room":"lobby","seq":1}`)
	chosen := dialJSON(t, ts, "name=zoe")
	zoeSession := chosen.welcome["session"].(string)
	first.ws.Close(websocket.StatusNormalClosure, "")
	chosen.ws.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "both to go", func() bool { return ts.Stats().Conns == 0 })

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
	waitFor(t, "zoe's grace to pass", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, ts.url("name=zoe"), &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
		other = c
		return err == nil
	})
	newZoe := &jsonClient{client: &client{t: t, ws: other}}
	t.Cleanup(func() { other.CloseNow() })
	if w := newZoe.expect("welcome"); w["name"] != "zoe" || w["session"] == zoeSession {
		t.Fatalf("the new zoe: %v", w)
	}
}
