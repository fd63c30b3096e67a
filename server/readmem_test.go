package server_test

import (
	"bytes"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestMemoryFollowsWhatArrivesNotWhatIsDeclared has many clients each
// declare a 64 KiB frame and send 8 bytes of it: the server's heap must
// grow by a fraction of what was declared, not by the declared size.
func TestMemoryFollowsWhatArrivesNotWhatIsDeclared(t *testing.T) {
	const (
		n        = 256
		declared = 64 << 10
		perConn  = declared / 4 // generous: the point is not to follow the header
	)
	ts := servertest.Start(t, server.Config{})
	observer := dial(t, ts, "")
	ncs := make([]net.Conn, n)
	sends := make([][]byte, n)
	for i := range ncs {
		ncs[i], _ = rawDial(t, ts, "")
		// A complete message, so that the observer sees when this
		// connection's frames have been read, then the declared frame.
		var b bytes.Buffer
		if err := ws.WriteFrame(&b, ws.MaskFrame(ws.NewTextFrame([]byte("here")))); err != nil {
			t.Fatal(err)
		}
		mask := ws.NewMask()
		if err := ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: mask, Length: declared}); err != nil {
			t.Fatal(err)
		}
		part := []byte("8 bytes.")
		ws.Cipher(part, mask, 0)
		b.Write(part)
		sends[i] = b.Bytes()
	}
	servertest.WaitFor(t, "clients registered", func() bool { return ts.Stats().Conns == n+1 })
	before := heapInuse()
	for i, nc := range ncs {
		if _, err := nc.Write(sends[i]); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if got := observer.read(); got != "here" {
			t.Fatalf("observer got %q", got)
		}
	}
	// Each reader is now waiting for the rest of its frame. Watch the heap
	// for a while: a server that allocates what headers declare shows it
	// at once.
	deadline := time.Now().Add(time.Second)
	var grown int64
	for time.Now().Before(deadline) {
		grown = int64(heapInuse()) - int64(before)
		if grown > n*perConn {
			t.Fatalf("heap grew %d KiB for %d connections that each sent 8 bytes of a %d KiB frame (%d KiB each)",
				grown>>10, n, declared>>10, grown/n>>10)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("heap grew %d KiB, %d bytes per connection", grown>>10, grown/n)
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
