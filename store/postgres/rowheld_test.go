package postgres_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// stallProxy forwards one client's connections to PostgreSQL and, once
// armed with k, stops passing the server's replies on after the k-th
// ReadyForQuery, the end of a round trip, until released: the client is
// then a node that waits for a CPU between two of its round trips.
type stallProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu      sync.Mutex
	stallAt int // 0: not armed
	seen    int
	release chan struct{}
	stalled chan struct{} // closed when the replies stall
	conns   []net.Conn
}

func newStallProxy(t *testing.T, dsn string) (string, *stallProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("CHATD_TEST_POSTGRES is not a postgres:// URL (%v)", err)
	}
	if q := u.Query(); q.Get("sslmode") != "disable" {
		q.Set("sslmode", "disable") // the proxy reads the protocol's messages
		u.RawQuery = q.Encode()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: u.Host, release: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.unstall()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	u.Host = ln.Addr().String()
	return u.String(), p
}

func (p *stallProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Go(func() {
			_, _ = io.Copy(s, c)
			s.Close()
		})
		p.wg.Go(func() {
			p.replies(c, s)
			c.Close()
		})
	}
}

// replies passes the server's messages on, one at a time, stalling after
// the armed ReadyForQuery.
func (p *stallProxy) replies(c, s net.Conn) {
	var head [5]byte
	for {
		if _, err := io.ReadFull(s, head[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(head[1:])-4)
		if _, err := io.ReadFull(s, body); err != nil {
			return
		}
		if _, err := c.Write(append(head[:], body...)); err != nil {
			return
		}
		if head[0] != 'Z' {
			continue
		}
		p.mu.Lock()
		stall := false
		if p.stallAt > 0 {
			p.seen++
			stall = p.seen == p.stallAt
		}
		release, stalled := p.release, p.stalled
		p.mu.Unlock()
		if stall {
			close(stalled)
			<-release
		}
	}
}

// arm stalls the replies after the k-th ReadyForQuery from now.
func (p *stallProxy) arm(k int) {
	p.mu.Lock()
	p.stallAt, p.seen, p.release, p.stalled = k, 0, make(chan struct{}), make(chan struct{})
	p.mu.Unlock()
}

func (p *stallProxy) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stallAt > 0 {
		close(p.release)
		p.stallAt = 0
	}
}

// A node that stalls between any two of its round trips of
// AppendNumbered does not hold the room's counter row meanwhile: another
// node appends to the room at once. Every node waits for the row in turn,
// so a row held across a slow node's round trips would delay them all.
func TestAStalledAppendNumberedDoesNotHoldTheRoom(t *testing.T) {
	dsn, _ := newSchema(t)
	other := open(t, dsn)
	defer other.Close()
	proxied, proxy := newStallProxy(t, dsn)
	for k := 1; ; k++ {
		stalled := open(t, proxied)
		// A first append makes the connection and prepares the
		// statements, outside the count.
		for _, id := range []string{"", "warm"} {
			if _, err := stalled.AppendNumbered(context.Background(), []store.Message{{Room: "r", From: "a", ClientMsgID: id, Text: "warm", Time: time.Now()}}); err != nil {
				t.Fatal(err)
			}
		}
		proxy.arm(k)
		done := make(chan error, 1)
		go func() {
			_, err := stalled.AppendNumbered(context.Background(), []store.Message{{Room: "r", From: "a", ClientMsgID: fmt.Sprint("id", k), Text: "stalled", Time: time.Now()}})
			done <- err
		}()
		select {
		case err := <-done:
			// It made fewer than k round trips: every stall was tried.
			proxy.unstall()
			stalled.Close()
			if err != nil {
				t.Fatal(err)
			}
			if k < 3 {
				t.Fatalf("AppendNumbered made %d round trips; the test expects more", k-1)
			}
			return
		case <-proxy.stalled:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := other.AppendNumbered(ctx, []store.Message{{Room: "r", From: "b", Text: "other", Time: time.Now()}})
		cancel()
		proxy.unstall()
		if err := <-done; err != nil {
			t.Fatalf("stalled after round trip %d: its own append: %v", k, err)
		}
		stalled.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stalled after round trip %d: the other node waited for the room's row", k)
		} else if err != nil {
			t.Fatalf("stalled after round trip %d: the other node's append: %v", k, err)
		}
	}
}
