package server

import (
	"context"
	"sync"
	"time"
)

// storeTimeout bounds one store call made for a client: a request's reads
// and writes, or the wait for a posted message to be stored.
const storeTimeout = 10 * time.Second

// storeContext bounds one store call made for c. It ends after
// storeTimeout, or as soon as the connection ends, so that a reader whose
// connection was dropped (by a shutdown that stopped waiting, a failed
// write, an eviction) is not left waiting on the store.
func (c *conn) storeContext() (context.Context, context.CancelFunc) {
	return c.calls.context(c.srv.base, storeTimeout)
}

// connCalls ends the calls made for a connection (store calls, a plain
// client's wait for its room's journal) when the connection is dropped.
// A connection has no context of its own: one that lived as long as the
// connection cost an idle connection about 500 bytes (its done channel and
// the children map its first call left behind, measured with pprof), so
// each call derives from the server's base context, which a shutdown that
// stops waiting cancels, and is listed here while it runs. Its methods are
// safe for concurrent use.
type connCalls struct {
	mu      sync.Mutex
	dropped bool
	running *connCall // a list, nil while no call runs
}

type connCall struct {
	cancel context.CancelFunc
	next   *connCall
}

// context returns a context for one call, which ends after d, when parent
// ends, or when the connection is dropped; cancel must be called when the
// call is done.
func (cc *connCalls) context(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, d)
	cc.mu.Lock()
	if cc.dropped {
		cc.mu.Unlock()
		cancel()
		return ctx, cancel
	}
	call := &connCall{cancel: cancel, next: cc.running}
	cc.running = call
	cc.mu.Unlock()
	return ctx, func() {
		cc.mu.Lock()
		for p := &cc.running; *p != nil; p = &(*p).next {
			if *p == call {
				*p = call.next
				break
			}
		}
		cc.mu.Unlock()
		cancel()
	}
}

// drop ends the calls running for the connection, and every call made for
// it from now on.
func (cc *connCalls) drop() {
	cc.mu.Lock()
	cc.dropped = true
	running := cc.running
	cc.running = nil
	cc.mu.Unlock()
	for ; running != nil; running = running.next {
		running.cancel()
	}
}
