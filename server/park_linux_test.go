package server_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// readerGoroutines counts the goroutines running a connection's reader.
func readerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("server.(*conn).readLoop("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

func TestAnIdleConnectionHoldsNoReaderGoroutine(t *testing.T) {
	// Every pause parks, however short: the test need not wait for one.
	defer server.SetParkGap(0)()
	ts := servertest.Start(t, server.Config{})
	cs := dialMany(t, ts, 20, "room=park")
	servertest.WaitFor(t, "no reader goroutine for idle connections", func() bool { return readerGoroutines() == 0 })

	// A parked reader takes the next message, and every member gets it.
	for round, text := range []string{"first", "second"} {
		cs[round].send(text)
		for i, c := range cs {
			if i == round {
				continue
			}
			for {
				got := c.read()
				if got == text {
					break
				}
				if got != "first" { // the second round's clients may read the first message still
					t.Fatalf("client %d read %q, want %q", i, got, text)
				}
			}
		}
		servertest.WaitFor(t, "readers parked again", func() bool { return readerGoroutines() == 0 })
	}
}

func TestABusyReaderKeepsItsGoroutineUntilAPause(t *testing.T) {
	defer server.SetParkGap(time.Hour)()
	ts := servertest.Start(t, server.Config{})
	cs := dialMany(t, ts, 2, "room=busy")
	servertest.WaitFor(t, "idle readers parked", func() bool { return readerGoroutines() == 0 })
	// The first frame after parking comes within the gap of the frame
	// before (the connect): the reader stays, blocked in the runtime.
	cs[0].send("busy")
	if got := cs[1].read(); got != "busy" {
		t.Fatalf("read %q, want busy", got)
	}
	servertest.WaitFor(t, "the sender's reader running", func() bool { return readerGoroutines() == 1 })
}
