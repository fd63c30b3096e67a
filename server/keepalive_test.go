package server_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestPingsAreSpreadOverTheInterval(t *testing.T) {
	const interval = 500 * time.Millisecond
	ts := servertest.Start(t, server.Config{PingInterval: interval, IdleTimeout: time.Minute})
	const n = 50 // consecutive ids: every part of the interval has two
	var (
		mu    sync.Mutex
		first []time.Time
		wg    sync.WaitGroup
	)
	for range n {
		nc, br := rawDial(t, ts, "")
		wg.Go(func() {
			_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				f, err := ws.ReadFrame(br)
				if err != nil {
					return
				}
				if f.Header.OpCode == ws.OpPing {
					mu.Lock()
					first = append(first, time.Now())
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(first) != n {
		t.Fatalf("%d of %d connections pinged", len(first), n)
	}
	// All at once, the pings would arrive within a few milliseconds of
	// each other; spread, they take most of the interval.
	if spread := slices.MaxFunc(first, time.Time.Compare).Sub(slices.MinFunc(first, time.Time.Compare)); spread < interval/4 {
		t.Fatalf("first pings spread over %v, want at least %v of the %v interval", spread, interval/4, interval)
	}
}
