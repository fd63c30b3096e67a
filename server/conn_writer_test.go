package server

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// TestAWriterWokenFromIdleDoesNotHoldTheRestOfAFanOut drives a writer
// step by step as run does, over real sockets: the sweep that follows a
// wake from idle lets the next sweep start at once, since the fan-out that
// woke the writer is still queueing frames for its other connections, and
// a sweep after that holds the next one as before.
func TestAWriterWokenFromIdleDoesNotHoldTheRestOfAFanOut(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	w := newWriter(stop, &sharedHold{})
	srv := &Server{cfg: Config{QueueBytes: 1 << 20}, writers: []*writer{w}}
	frame := textFrame([]byte("a message to the room"))
	outs := make([]*outbox, 2)
	clients := make([]net.Conn, 2)
	for i := range outs {
		sc, cc := loopbackPair(t)
		c := &conn{srv: srv}
		outs[i], clients[i] = &c.out, cc
		outs[i].init(sc, c)
		outs[i].uncork()
	}

	// The fan-out's first frame wakes the idle writer, which sweeps it.
	outs[0].deliver(frame, false)
	<-w.wake
	w.woke = true
	if !w.wait() || !w.sweep() {
		t.Fatal("the first sweep found nothing to write")
	}
	// The fan-out's next frame was queued while that sweep ran.
	outs[1].deliver(frame, false)
	if d := w.next.Sub(w.started); d > 0 {
		t.Errorf("the first sweep after a wake from idle holds the next sweep %v", d)
	}
	if !w.wait() || !w.sweep() {
		t.Fatal("the second sweep found nothing to write")
	}
	if !w.next.After(w.started) {
		t.Error("a sweep that did not follow a wake from idle does not hold the next one")
	}

	for i, cc := range clients {
		got := make([]byte, len(frame))
		if err := cc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(cc, got); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if !bytes.Equal(got, frame) {
			t.Errorf("client %d read %q, want %q", i, got, frame)
		}
	}
}

// loopbackPair returns the two ends of a TCP connection on loopback: the
// server's, which writers can write without blocking, and the client's.
func loopbackPair(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		server.Close()
		client.Close()
	})
	return server, client
}
