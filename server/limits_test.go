package server_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// rawDial opens a WebSocket connection with a tiny receive buffer, for
// clients that misbehave at the frame level or stop reading.
func rawDial(t *testing.T, ts *servertest.Server, query string) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := ws.Dialer{
		Timeout: 5 * time.Second,
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
				})
				if err != nil {
					return err
				}
				return serr
			}}
			return nd.DialContext(ctx, network, addr)
		},
	}
	nc, br, _, err := d.Dial(context.Background(), wsURL(ts, query))
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	if br == nil {
		br = bufio.NewReader(nc)
	}
	return nc, br
}

func writeRawFrame(t *testing.T, nc net.Conn, f ws.Frame) {
	t.Helper()
	if err := ws.WriteFrame(nc, ws.MaskFrame(f)); err != nil {
		t.Fatalf("write frame: %v", err)
	}
}

// readRawClose reads frames until a close frame and returns its code.
func readRawClose(t *testing.T, nc net.Conn, br *bufio.Reader) ws.StatusCode {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := ws.ReadFrame(br)
		if err != nil {
			t.Fatalf("reading for a close frame: %v", err)
		}
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return code
		}
	}
}

func TestBadInputClosesOnlyTheOffender(t *testing.T) {
	cases := []struct {
		name   string
		cfg    server.Config
		frames []ws.Frame
		raw    []byte // sent after frames, for what ws.Frame cannot express
		want   ws.StatusCode
	}{
		{"binary frame", server.Config{}, []ws.Frame{ws.NewBinaryFrame([]byte{1, 2, 3})}, nil, 1003},
		{"too big", server.Config{MaxMessageBytes: 1000}, []ws.Frame{ws.NewTextFrame(make([]byte, 1001))}, nil, 1009},
		{"too big in fragments", server.Config{MaxMessageBytes: 1000}, []ws.Frame{
			ws.NewFrame(ws.OpText, false, make([]byte, 600)),
			ws.NewFrame(ws.OpContinuation, true, make([]byte, 600)),
		}, nil, 1009},
		{"invalid utf-8", server.Config{}, []ws.Frame{ws.NewTextFrame([]byte{0xff, 0xfe})}, nil, 1007},
		{"continuation without start", server.Config{}, []ws.Frame{ws.NewFrame(ws.OpContinuation, true, []byte("x"))}, nil, 1002},
		{"reserved opcode", server.Config{}, []ws.Frame{ws.NewFrame(ws.OpCode(0x3), true, []byte("x"))}, nil, 1002},
		{"new message inside fragmented one", server.Config{}, []ws.Frame{
			ws.NewFrame(ws.OpText, false, []byte("a")),
			ws.NewTextFrame([]byte("b")),
		}, nil, 1002},
		// A 64-bit length must leave its top bit clear (RFC 6455, 5.2).
		{"64-bit length with the top bit set", server.Config{}, nil,
			[]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4}, 1002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t, tc.cfg)
			bystanders := dialMany(t, ts, 2, "")
			nc, br := rawDial(t, ts, "")
			servertest.WaitFor(t, "offender registered", func() bool { return ts.Stats().Conns == 3 })
			for _, f := range tc.frames {
				writeRawFrame(t, nc, f)
			}
			if _, err := nc.Write(tc.raw); err != nil {
				t.Fatal(err)
			}
			if got := readRawClose(t, nc, br); got != tc.want {
				t.Fatalf("close code %d, want %d", got, tc.want)
			}
			nc.Close() // as a client does after the server's close frame
			bystanders[0].send("still here")
			if got := bystanders[1].read(); got != "still here" {
				t.Fatalf("bystander got %q", got)
			}
			servertest.WaitFor(t, "offender gone", func() bool { return ts.Stats().Conns == 2 })
		})
	}
}

func TestFragmentedMessageIsDeliveredWhole(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	recv := dial(t, ts, "")
	nc, _ := rawDial(t, ts, "")
	servertest.WaitFor(t, "both registered", func() bool { return ts.Stats().Conns == 2 })
	writeRawFrame(t, nc, ws.NewFrame(ws.OpText, false, []byte("hel")))
	writeRawFrame(t, nc, ws.NewPingFrame([]byte("between fragments")))
	writeRawFrame(t, nc, ws.NewFrame(ws.OpContinuation, false, []byte("lo, ")))
	writeRawFrame(t, nc, ws.NewFrame(ws.OpContinuation, true, []byte("world")))
	if got := recv.read(); got != "hello, world" {
		t.Fatalf("got %q", got)
	}
}

// TestClientCloseIsEchoed checks the answer to a client's close frame:
// its own code when RFC 6455 allows the code, 1002 when not.
func TestClientCloseIsEchoed(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want ws.StatusCode
	}{
		{"no code", nil, 1000},
		{"normal", ws.NewCloseFrameBody(1000, "bye"), 1000},
		{"going away", ws.NewCloseFrameBody(1001, ""), 1001},
		{"registered", ws.NewCloseFrameBody(3000, ""), 3000},
		{"private", ws.NewCloseFrameBody(4999, ""), 4999},
		{"above the private range", ws.NewCloseFrameBody(5000, ""), 1002},
		{"largest code", ws.NewCloseFrameBody(65535, ""), 1002},
		{"below 1000", ws.NewCloseFrameBody(999, ""), 1002},
		{"reserved 1005", ws.NewCloseFrameBody(1005, ""), 1002},
		{"unassigned 2999", ws.NewCloseFrameBody(2999, ""), 1002},
		{"one byte", []byte{3}, 1002},
		{"reason not utf-8", append(ws.NewCloseFrameBody(1000, ""), 0xff), 1002},
	}
	ts := servertest.Start(t, server.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, br := rawDial(t, ts, "")
			writeRawFrame(t, nc, ws.NewCloseFrame(tc.body))
			if got := readRawClose(t, nc, br); got != tc.want {
				t.Fatalf("close code %d, want %d", got, tc.want)
			}
			nc.Close()
			servertest.WaitFor(t, "connection gone", func() bool { return ts.Stats().Conns == 0 })
		})
	}
}

func TestRefusedAtUpgrade(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	wsHeaders := http.Header{
		"Connection":            {"Upgrade"},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
	cases := []struct {
		name     string
		query    string
		header   http.Header
		status   int
		bodyPart string
	}{
		{"plain GET", "", nil, http.StatusUpgradeRequired, "WebSocket only"},
		{"room with space", "room=a%20b", wsHeaders, http.StatusBadRequest, "room"},
		{"room too long", "room=" + strings.Repeat("r", 65), wsHeaders, http.StatusBadRequest, "room"},
		{"name with markup", "name=%3Cb%3E", wsHeaders, http.StatusBadRequest, "name"},
		{"name too long", "name=" + strings.Repeat("n", 33), wsHeaders, http.StatusBadRequest, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := httpGet(t, "http://"+ts.Addr+"/ws?"+tc.query, tc.header)
			if status != tc.status || !strings.Contains(body, tc.bodyPart) {
				t.Fatalf("got %d %q, want %d containing %q", status, body, tc.status, tc.bodyPart)
			}
		})
	}
}

func TestConnectionCapAnswers503(t *testing.T) {
	ts := servertest.Start(t, server.Config{MaxConns: 2})
	dialMany(t, ts, 2, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, wsURL(ts, ""), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third dial: err %v, resp %v; want 503", err, resp)
	}
	if got := ts.Stats().Refused[server.RefusedCapacity]; got != 1 {
		t.Fatalf("refused = %d, want 1", got)
	}
}

func TestHealthz(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	if status, body := httpGet(t, "http://"+ts.Addr+"/healthz", nil); status != 200 || body != "ok\n" {
		t.Fatalf("got %d %q", status, body)
	}
}

func TestSlowlorisIsCutOff(t *testing.T) {
	ts := servertest.Start(t, server.Config{HandshakeTimeout: 200 * time.Millisecond})
	nc, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("GET /ws HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = bufio.NewReader(nc).ReadString('\n')
	for err == nil {
		_, err = bufio.NewReader(nc).ReadString('\n')
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("server kept an unfinished request open for %v", time.Since(start))
	}
}
