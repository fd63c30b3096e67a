//go:build unix

package server

import (
	"io"
	"net"
	"sync"
	"testing"
)

// BenchmarkNonblockingWrite is one writer's write of a 64-byte message's
// frame to a loopback socket whose other end a goroutine reads: the
// system call and what the writer wraps around it, the bulk of a
// delivery's CPU when each write carries one frame.
func BenchmarkNonblockingWrite(b *testing.B) {
	sc, cc := loopbackPair(b)
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(io.Discard, cc) })
	defer wg.Wait()
	defer cc.Close()
	rc := rawConnOf(sc)
	frame := textFrame(make([]byte, 64))
	var nw nonblockingWriter
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nw.write(rc, frame); err != nil {
			b.Fatal(err)
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
