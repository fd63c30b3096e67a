package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestSlowConsumerIsEvictedWhileOthersReceiveEverything(t *testing.T) {
	ts := servertest.Start(t, server.Config{QueueBytes: 64 << 10, WriteTimeout: time.Second, SendRate: -1, SendByteRate: -1})
	sender := dial(t, ts, "room=busy")
	fast := dial(t, ts, "room=busy")
	slow, slowReader := rawDial(t, ts, "room=busy") // never reads
	servertest.WaitFor(t, "all registered", func() bool { return ts.Stats().Conns == 3 })

	// The sender waits for the fast client to read each message, so only the
	// client that stopped reading can fall behind.
	payload := make([]byte, 16<<10)
	const n = 1000 // 16 MiB: far more than socket buffers and the queue hold
	for i := range n {
		copy(payload, fmt.Sprintf("%08d", i))
		sender.send(string(payload))
		if got, want := fast.read()[:8], fmt.Sprintf("%08d", i); got != want {
			t.Fatalf("fast client got message %s, want %s", got, want)
		}
	}
	servertest.WaitFor(t, "slow consumer evicted", func() bool {
		st := ts.Stats()
		return st.SlowEvictions == 1 && st.Conns == 2
	})
	// Whatever reached the slow client's socket ends with the connection
	// closed, never with more messages than it could take.
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := ws.ReadFrame(slowReader)
		if err != nil {
			break
		}
		if f.Header.OpCode == ws.OpClose {
			if code, _ := ws.ParseCloseFrameData(f.Payload); code != 1013 {
				t.Fatalf("slow client closed with %d, want 1013", code)
			}
			break
		}
	}
}

func TestShutdownSendsGoingAwayAfterQueuedMessages(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	cs := dialMany(t, ts, 3, "")
	cs[0].send("last words")
	for _, c := range cs[1:] {
		if got := c.read(); got != "last words" {
			t.Fatalf("got %q", got)
		}
	}
	stopped := make(chan struct{})
	go func() {
		ts.Stop(t)
		close(stopped)
	}()
	for _, c := range cs {
		c.expectClose(websocket.StatusGoingAway, "shutting down")
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not finish after clients closed")
	}
}

func TestShutdownDropsClientsThatDoNotClose(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	rawDial(t, ts, "") // never reads, never answers the close frame
	servertest.WaitFor(t, "registered", func() bool { return ts.Stats().Conns == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := ts.Shutdown(ctx); err == nil {
		t.Fatal("shutdown reported a clean close for a client that never answered")
	}
	if d := time.Since(begin); d > 4*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}

func TestRefusedWhileShuttingDown(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	if err := ts.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, wsURL(ts, ""), nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("dial during shutdown: %v %v, want 503", err, resp)
	}
}

func TestUnresponsivePeerIsReaped(t *testing.T) {
	ts := servertest.Start(t, server.Config{PingInterval: 50 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	alive := dial(t, ts, "") // answers pings while it reads
	rawDial(t, ts, "")       // reads nothing, answers nothing
	servertest.WaitFor(t, "both registered", func() bool { return ts.Stats().Conns == 2 })
	go func() { _, _ = alive.tryRead(2 * time.Second) }()
	servertest.WaitFor(t, "dead peer reaped", func() bool { return ts.Stats().Conns == 1 })
	time.Sleep(500 * time.Millisecond) // longer than IdleTimeout: the live client must survive it
	if got := ts.Stats().Conns; got != 1 {
		t.Fatalf("conns = %d after idle timeout, want the responsive client kept", got)
	}
}

func TestFramesSentRightAfterTheHandshakeAreNotLost(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	recv := dial(t, ts, "")
	servertest.WaitFor(t, "registered", func() bool { return ts.Stats().Conns == 1 })
	// The handshake and a first frame leave in one write, before the
	// response is read, as a pipelining client may send them.
	var req bytes.Buffer
	req.WriteString("GET /ws HTTP/1.1\r\nHost: " + ts.Addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if err := ws.WriteFrame(&req, ws.MaskFrame(ws.NewTextFrame([]byte("early bird")))); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	if got := recv.read(); got != "early bird" {
		t.Fatalf("got %q", got)
	}
}

// TestShutdownNeverSeparatesADeliveredMessageFromItsAck sends as fast as
// it can while the server shuts down: every message another client
// received must have been acknowledged to its sender before the 1001.
func TestShutdownNeverSeparatesADeliveredMessageFromItsAck(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: -1})
	sender := dialJSON(t, ts, "room=r&name=sender")
	recv := dialJSON(t, ts, "room=r&name=recv")
	sender.expect("presence_diff")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		for i := 0; ; i++ {
			req := fmt.Sprintf(`{"type":"send","id":"%d","room":"r","text":"%d"}`, i, i)
			if sender.ws.Write(ctx, websocket.MessageText, []byte(req)) != nil {
				return
			}
		}
	}()
	acked := map[string]bool{}
	sawAck := make(chan struct{})
	ackDone := make(chan struct{})
	go func() {
		defer close(ackDone)
		for {
			_, p, err := sender.ws.Read(ctx)
			if err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(p, &ev) == nil && ev["type"] == "ack" {
				acked[ev["id"].(string)] = true
				if len(acked) == 50 {
					close(sawAck)
				}
			}
		}
	}()
	<-sawAck
	ts.Stop(t)
	var delivered []string
	for {
		_, p, err := recv.ws.Read(ctx)
		if err != nil {
			break
		}
		var ev map[string]any
		if json.Unmarshal(p, &ev) == nil && ev["type"] == "message" {
			delivered = append(delivered, ev["text"].(string))
		}
	}
	<-ackDone
	for _, text := range delivered {
		if !acked[text] {
			t.Fatalf("message %s was delivered but its sender never got the ack (%d delivered, %d acked)", text, len(delivered), len(acked))
		}
	}
}
