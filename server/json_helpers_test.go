package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
)

// jsonClient speaks the chatd.v1 JSON protocol.
type jsonClient struct {
	*client
	welcome map[string]any
}

func dialJSON(t *testing.T, ts *servertest.Server, query string) *jsonClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(ts, query), &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	if err != nil {
		t.Fatalf("dial json %s: %v", query, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	if c.Subprotocol() != "chatd.v1" {
		t.Fatalf("server chose subprotocol %q", c.Subprotocol())
	}
	t.Cleanup(func() { c.CloseNow() })
	jc := &jsonClient{client: &client{t: t, ws: c}}
	jc.welcome = jc.expect("welcome")
	return jc
}

// event reads the next event.
func (c *jsonClient) event() map[string]any {
	c.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(c.read()), &ev); err != nil {
		c.t.Fatalf("event is not JSON: %v", err)
	}
	return ev
}

// expect reads events until one of type typ arrives, skipping presence and
// typing events, which come and go with other clients.
func (c *jsonClient) expect(typ string) map[string]any {
	c.t.Helper()
	for {
		ev := c.event()
		if ev["type"] == typ {
			return ev
		}
		if ev["type"] != "presence_diff" && ev["type"] != "typing" {
			c.t.Fatalf("want a %s event, got %v", typ, ev)
		}
	}
}

// request sends a raw request and returns the reply (ack or error).
func (c *jsonClient) request(raw string) map[string]any {
	c.t.Helper()
	c.send(raw)
	for {
		ev := c.event()
		if ev["type"] == "ack" || ev["type"] == "error" {
			return ev
		}
	}
}

// do sends a request and fails the test unless it is acknowledged.
func (c *jsonClient) do(raw string) map[string]any {
	c.t.Helper()
	r := c.request(raw)
	if r["type"] != "ack" {
		c.t.Fatalf("%s: %v", raw, r)
	}
	return r
}

// untilReply reads events with next and returns the message events that
// arrive before the reply to a request (its ack or error), and the reply.
func untilReply(next func() map[string]any) ([]map[string]any, map[string]any) {
	var msgs []map[string]any
	for {
		ev := next()
		switch ev["type"] {
		case "message":
			msgs = append(msgs, ev)
		case "ack", "error":
			return msgs, ev
		}
	}
}
