package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// BenchmarkRoomsOfTwo sends plain messages into 16 rooms of two real
// WebSocket connections on loopback, one sender and one receiver in each,
// and waits until every message is read: the shape of chatbench's rooms
// case, where the sender's reader (decode, publish, one delivery) is most
// of a message's cost. Run it with -benchmem: allocations per message hold
// up on a loaded machine where ns/op does not.
func BenchmarkRoomsOfTwo(b *testing.B) {
	const rooms, window = 16, 32 // window: messages in flight per room
	ts := servertest.Start(b, server.Config{SendRate: -1, SendByteRate: -1})
	var delivered atomic.Int64
	var wg sync.WaitGroup
	var conns []net.Conn
	senders := make([]net.Conn, rooms)
	for i := range rooms {
		for j := range 2 {
			nc, br, _, err := ws.Dialer{Timeout: 5 * time.Second}.Dial(context.Background(), wsURL(ts, fmt.Sprintf("room=r%d", i)))
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, nc)
			if j == 0 {
				senders[i] = nc
				continue
			}
			if br == nil {
				br = bufio.NewReaderSize(nc, 4096)
			}
			wg.Go(func() { countFrames(br, &delivered) })
		}
	}
	for ts.Stats().Conns < 2*rooms {
		time.Sleep(time.Millisecond)
	}
	frame := ws.MustCompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte("a 64-byte chat message, about as long as a typical line of chat"))))

	b.ResetTimer()
	for i := range b.N {
		for int64(i-window*rooms) > delivered.Load() {
			time.Sleep(50 * time.Microsecond)
		}
		if _, err := senders[i%rooms].Write(frame); err != nil {
			b.Fatal(err)
		}
	}
	for delivered.Load() < int64(b.N) {
		time.Sleep(50 * time.Microsecond)
	}
	b.StopTimer()

	for _, nc := range conns {
		nc.Close()
	}
	wg.Wait()
}
