//go:build unix

package server

import (
	"io"
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
