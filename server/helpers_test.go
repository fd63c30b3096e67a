package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/chatd/chatd/internal/servertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wsURL is ts's WebSocket endpoint with query ("" for none).
func wsURL(ts *servertest.Server, query string) string {
	u := ts.URL()
	if query != "" {
		u += "?" + query
	}
	return u
}

// client is a plain WebSocket client built on an independent implementation
// of RFC 6455, so that the server is checked against someone else's framing.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, ts *servertest.Server, query string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(ts, query), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &client{t: t, ws: c}
}

// dialMany connects n clients with the same query and waits until the
// server has registered all of them, so that none misses a message sent
// right after.
func dialMany(t *testing.T, ts *servertest.Server, n int, query string) []*client {
	t.Helper()
	before := ts.Stats().Conns
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = dial(t, ts, query)
	}
	servertest.WaitFor(t, "clients registered", func() bool { return ts.Stats().Conns >= before+n })
	return cs
}

func (c *client) send(text string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		c.t.Fatalf("send %q: %v", text, err)
	}
}

func (c *client) read() string {
	c.t.Helper()
	s, err := c.tryRead(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return s
}

func (c *client) tryRead(d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	typ, p, err := c.ws.Read(ctx)
	if err != nil {
		return "", err
	}
	if typ != websocket.MessageText {
		return "", fmt.Errorf("got message type %v, want text", typ)
	}
	return string(p), nil
}

// expectSilence checks that nothing arrives for d. The client library
// closes the connection when a read times out, so call it last.
func (c *client) expectSilence(d time.Duration) {
	c.t.Helper()
	if s, err := c.tryRead(d); err == nil {
		c.t.Fatalf("unexpected message %q", s)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		c.t.Fatalf("read: %v", err)
	}
}

// expectClose reads until the server closes the connection and checks the
// close code.
func (c *client) expectClose(code websocket.StatusCode, reasonPart string) {
	c.t.Helper()
	for {
		_, err := c.tryRead(5 * time.Second)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("want close %d, got %v", code, err)
		}
		if ce.Code != code || !strings.Contains(ce.Reason, reasonPart) {
			c.t.Fatalf("want close %d containing %q, got %d %q", code, reasonPart, ce.Code, ce.Reason)
		}
		return
	}
}

// httpGet is servertest.Get that returns the status instead of the response.
func httpGet(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	resp, body := servertest.Get(t, url, header)
	return resp.StatusCode, body
}
