package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/time/rate"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// networkPace is how fast a paced client reads: a client on a real
// network, not loopback.
const networkPace = 1 << 20 // bytes per second

// startNetworked is servertest.Start on a listener whose connections have a small
// send buffer, so that what the server has written but the client has not
// read stays in the server's queue, as on a real network, instead of in
// loopback's multi-megabyte socket buffers.
func startNetworked(t *testing.T, cfg server.Config) *servertest.Server {
	t.Helper()
	lc := net.ListenConfig{Control: smallBuffer(syscall.SO_SNDBUF)}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return servertest.StartOn(t, cfg, ln)
}

// smallBuffer sets a socket's buffer (SO_SNDBUF or SO_RCVBUF) to 16 KiB;
// accepted sockets inherit it from their listener.
func smallBuffer(opt int) func(_, _ string, rc syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 16<<10)
		}); err != nil {
			return err
		}
		return serr
	}
}

// pacedClient is a JSON client that reads the way a client across a real
// network does: through a small socket receive buffer, at networkPace. On
// loopback, multi-megabyte kernel buffers would otherwise absorb bursts a
// real network cannot.
type pacedClient struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialPaced(t *testing.T, ts *servertest.Server, query string, header http.Header) *pacedClient {
	t.Helper()
	d := ws.Dialer{
		Timeout:   5 * time.Second,
		Protocols: []string{"chatd.v1"},
		Header:    ws.HandshakeHeaderHTTP(header),
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{Control: smallBuffer(syscall.SO_RCVBUF)}
			return nd.DialContext(ctx, network, addr)
		},
	}
	nc, br, _, err := d.Dial(context.Background(), wsURL(ts, query))
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
	ev, err := c.next()
	if err != nil {
		c.t.Fatal(err)
	}
	return ev
}

// next reads the next event, or returns why there is none, such as the
// server closing the connection. Unlike event it may be called from any
// goroutine.
func (c *pacedClient) next() (map[string]any, error) {
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		f, err := ws.ReadFrame(c.r)
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		switch f.Header.OpCode {
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameData(f.Payload)
			return nil, fmt.Errorf("the server closed the connection: %d %s", code, reason)
		case ws.OpText:
			var ev map[string]any
			if err := json.Unmarshal(f.Payload, &ev); err != nil {
				return nil, fmt.Errorf("event is not JSON: %w", err)
			}
			return ev, nil
		}
	}
}

// request sends raw (unless it is empty, to read the reply to a request
// sent before) and returns the message events that arrived before its
// reply, and the reply.
func (c *pacedClient) request(raw string) ([]map[string]any, map[string]any) {
	c.t.Helper()
	if raw != "" {
		c.send(raw)
	}
	return untilReply(c.event)
}
