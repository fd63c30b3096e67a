package systemtest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// forwarder relays TCP connections from its listener to another address,
// so that a node in a lab namespace reaches a server listening on the
// test's loopback. Cut drops every connection it relays, with a reset, and
// resets those it accepts until Heal: the node is cut off from the server.
type forwarder struct {
	ln net.Listener
	to string
	wg sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cut   bool
}

// forward listens on host (any port) and relays to to, until the test
// ends.
func forward(t *testing.T, host, to string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, to: to, conns: make(map[net.Conn]struct{})}
	f.wg.Go(f.accept)
	t.Cleanup(f.close)
	return f
}

// Addr is where the forwarder listens.
func (f *forwarder) Addr() string { return f.ln.Addr().String() }

func (f *forwarder) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		cut := f.cut
		if !cut {
			f.conns[c] = struct{}{}
		}
		f.mu.Unlock()
		if cut {
			reset(c)
			continue
		}
		f.wg.Go(func() { f.relay(c) })
	}
}

func (f *forwarder) relay(c net.Conn) {
	defer f.drop(c)
	up, err := net.Dial("tcp", f.to)
	if err != nil {
		return
	}
	f.mu.Lock()
	if f.cut {
		f.mu.Unlock()
		reset(up)
		return
	}
	f.conns[up] = struct{}{}
	f.mu.Unlock()
	defer f.drop(up)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(up, c)
		reset(up) // either side's end ends both
	}()
	_, _ = io.Copy(c, up)
	reset(c)
	<-done
}

// drop forgets c and resets it.
func (f *forwarder) drop(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	reset(c)
}

// reset closes c with a reset rather than an orderly end, as a peer that
// is gone would seem.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// Cut resets every relayed connection and refuses new ones until Heal.
func (f *forwarder) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = true
	for c := range f.conns {
		reset(c)
	}
}

// Heal relays new connections again.
func (f *forwarder) Heal() {
	f.mu.Lock()
	f.cut = false
	f.mu.Unlock()
}

func (f *forwarder) close() {
	f.ln.Close()
	f.Cut()
	f.wg.Wait()
}
