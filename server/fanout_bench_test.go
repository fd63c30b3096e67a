package server_test

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// BenchmarkFanout1000 sends messages into a room of 1,000 real WebSocket
// connections on loopback and waits until every member has read every
// message. The clients share the machine with the server, so the figure is
// for comparisons between versions of chatd, not an absolute capacity; see
// docs/benchmarks.md for load runs with separate processes.
func BenchmarkFanout1000(b *testing.B) {
	const members = 1000
	ts := servertest.Start(b, server.Config{SendRate: -1, SendByteRate: -1})
	var delivered atomic.Int64
	var wg sync.WaitGroup
	conns := make([]net.Conn, members)
	for i := range conns {
		nc, br, _, err := ws.Dialer{Timeout: 5 * time.Second}.Dial(context.Background(), wsURL(ts, "room=bench"))
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = nc
		if br == nil {
			br = bufio.NewReaderSize(nc, 4096)
		}
		wg.Go(func() { countFrames(br, &delivered) })
	}
	sender, _, _, err := ws.Dialer{}.Dial(context.Background(), wsURL(ts, "room=bench"))
	if err != nil {
		b.Fatal(err)
	}
	for ts.Stats().Conns < members+1 {
		time.Sleep(time.Millisecond)
	}
	frame := ws.MustCompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte("a 64-byte chat message, about as long as a typical line of chat"))))

	b.ResetTimer()
	const window = 64 // messages in flight
	for i := range b.N {
		for int64(i-window)*members > delivered.Load() {
			time.Sleep(50 * time.Microsecond)
		}
		if _, err := sender.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
	for delivered.Load() < int64(b.N)*members {
		time.Sleep(50 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(delivered.Load())/b.Elapsed().Seconds(), "deliveries/s")

	sender.Close()
	for _, nc := range conns {
		nc.Close()
	}
	wg.Wait()
}

// countFrames reads frames until the connection ends, counting text frames.
func countFrames(br *bufio.Reader, n *atomic.Int64) {
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if _, err := br.Discard(int(h.Length)); err != nil {
			return
		}
		if h.OpCode == ws.OpText {
			n.Add(1)
		}
	}
}
