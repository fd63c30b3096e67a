package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/time/rate"
)

// networkPace is how fast a paced client reads: a client on a real
// network, not loopback.
const networkPace = 1 << 20 // bytes per second

// pacedClient is a JSON client that reads the way a client across a real
// network does: through a small socket receive buffer, at networkPace. On
// loopback, multi-megabyte kernel buffers would otherwise absorb bursts a
// real network cannot.
type pacedClient struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialPaced(t *testing.T, ts *testServer, query string, header http.Header) *pacedClient {
	t.Helper()
	d := ws.Dialer{
		Timeout:   5 * time.Second,
		Protocols: []string{"chatd.v1"},
		Header:    ws.HandshakeHeaderHTTP(header),
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				if err := rc.Control(func(fd uintptr) {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
				}); err != nil {
					return err
				}
				return serr
			}}
			return nd.DialContext(ctx, network, addr)
		},
	}
	nc, br, _, err := d.Dial(context.Background(), ts.url(query))
	if err != nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	t.Cleanup(func() { nc.Close() })
	var src io.Reader = nc
	if br != nil {
		src = br // it holds what arrived with the handshake, and reads nc after
	}
	p := &pacer{src: src, lim: rate.NewLimiter(networkPace, 16<<10)}
	c := &pacedClient{t: t, nc: nc, r: bufio.NewReaderSize(p, 4<<10)}
	if ev := c.event(); ev["type"] != "welcome" {
		t.Fatalf("first event %v", ev)
	}
	return c
}

// pacer reads from src no faster than lim allows.
type pacer struct {
	src io.Reader
	lim *rate.Limiter
}

func (p *pacer) Read(b []byte) (int, error) {
	if len(b) > p.lim.Burst() {
		b = b[:p.lim.Burst()]
	}
	n, err := p.src.Read(b)
	if n > 0 {
		_ = p.lim.WaitN(context.Background(), n)
	}
	return n, err
}

func (c *pacedClient) send(raw string) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteFrame(c.nc, ws.MaskFrame(ws.NewTextFrame([]byte(raw)))); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// event reads the next event; a close frame fails the test with its code.
func (c *pacedClient) event() map[string]any {
	c.t.Helper()
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		f, err := ws.ReadFrame(c.r)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		switch f.Header.OpCode {
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameData(f.Payload)
			c.t.Fatalf("the server closed the connection: %d %s", code, reason)
		case ws.OpText:
			var ev map[string]any
			if err := json.Unmarshal(f.Payload, &ev); err != nil {
				c.t.Fatalf("event is not JSON: %v", err)
			}
			return ev
		}
	}
}

// request sends raw and returns the message events that arrived before
// its reply, and the reply.
func (c *pacedClient) request(raw string) ([]map[string]any, map[string]any) {
	c.t.Helper()
	c.send(raw)
	var msgs []map[string]any
	for {
		ev := c.event()
		switch ev["type"] {
		case "message":
			msgs = append(msgs, ev)
		case "ack", "error":
			return msgs, ev
		}
	}
}
