package server

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chatd/chatd/hub"
	"golang.org/x/time/rate"
)

// conn is one WebSocket connection. Its reader goroutine owns decoding and
// the fields marked reader-owned; its outbound queue is guarded by mu and
// may be filled from any goroutine.
//
// The write side of the socket has exactly one owner at a time: whoever set
// scheduled (a writer sweeping it, or the conn's drain goroutine). Nobody
// else writes to nc.
type conn struct {
	srv *Server
	// ctx ends when the connection does (abort), or when a shutdown stops
	// waiting for it; it bounds the store calls made for the connection
	// (storeContext).
	ctx    context.Context
	cancel context.CancelFunc
	nc     net.Conn
	raw    syscall.RawConn // nil when nc cannot be written without blocking
	w      *writer
	id     uint64
	addr   netip.Prefix // the client's address, as per-address limits count it
	format hub.Format
	// plainRoom is the room a plain client chats in, fixed at connect.
	plainRoom string
	sess      *session // the user behind the connection

	// authMu guards whom the connection speaks for, which an auth request
	// changes while other goroutines look for connections to revoke.
	authMu sync.Mutex
	ident  identity
	expiry *time.Timer // closes the connection when its token expires

	// Reader-owned.
	rooms   map[string]struct{} // rooms joined
	limiter *rate.Limiter       // nil: no send rate limit
	// byteLimiter charges the bytes of what the connection sends to its
	// recipients; nil: no limit.
	byteLimiter *rate.Limiter
	reqLimits   [numClasses]*rate.Limiter // made at a class's first request
	strikes     int                       // consecutive refused requests
	lastTyped   map[string]time.Time

	// handling is held while the reader carries out a request, so that a
	// shutdown's close frame never falls between a message's delivery and
	// its ack.
	handling sync.Mutex

	// closing is set once a close frame is queued; the reader then stops
	// extending its idle deadline and ignores further messages.
	closing atomic.Bool
	// evicted records that the queue overflowed, for the close log.
	evicted atomic.Bool
	// peerClosed is set when the client sent a close frame first; once our
	// answer is written the handshake is complete and the socket can close.
	peerClosed atomic.Bool

	mu        sync.Mutex
	inflight  int    // sends accepted and waiting for the store to reply
	lastFrame []byte // a close frame waiting for inflight to reach 0
	queue     [][]byte
	queued    int  // bytes in queue, each frame counting frameOverhead extra
	scheduled bool // the write side has an owner
	final     bool // a close frame is the last thing queued; accept no more
	// corked holds queued frames back until the connection has joined its
	// room and is registered, so that a client that has read its welcome
	// (or its first frame) knows it is already a member.
	corked bool
	// awaiting is set while the reader waits in awaitRoom; whoever empties
	// the queue then signals drained.
	awaiting bool
	drained  chan struct{} // capacity 1
}

// Deliver implements hub.Subscriber. It never blocks: it appends to the
// queue, and on overflow replaces the queue by a 1013 close frame. A
// droppable frame is discarded instead when the queue is half full, so that
// typing indicators never push a lagging client over the edge.
func (c *conn) Deliver(frame []byte, droppable bool) {
	c.mu.Lock()
	if c.final {
		c.mu.Unlock()
		return
	}
	size := len(frame) + frameOverhead
	if droppable && c.queued+size > c.srv.cfg.QueueBytes/2 {
		c.mu.Unlock()
		return
	}
	if c.queued+size > c.srv.cfg.QueueBytes {
		c.evicted.Store(true)
		c.srv.stats.slowEvictions.Add(1)
		c.finalizeLocked(closeSlowConsumer, true)
		return // finalizeLocked unlocked c.mu
	}
	c.queue = append(c.queue, frame)
	c.queued += size
	start := !c.scheduled && !c.corked
	c.scheduled = c.scheduled || start
	c.mu.Unlock()
	if start {
		c.startWriting()
	}
}

// send queues a frame for this connection alone, such as a reply.
func (c *conn) send(frame []byte) { c.Deliver(frame, false) }

// Format implements hub.Subscriber.
func (c *conn) Format() hub.Format { return c.format }

// User implements hub.Subscriber.
func (c *conn) User() string { return c.sess.key }

// Name implements hub.Subscriber.
func (c *conn) Name() string { return c.sess.name }

// closeWith queues a close frame as the last frame for this connection. With
// drop, frames still queued are discarded first. Otherwise everything
// already owed to the client goes out before it: the frames queued, and the
// replies of sends still waiting for the store, for which the close waits
// (the journal always reports, within its append timeout). Only the first
// call has an effect, except that a drop overrides a close still waiting.
func (c *conn) closeWith(frame []byte, drop bool) {
	c.mu.Lock()
	if c.final || !drop && c.lastFrame != nil {
		c.mu.Unlock()
		return
	}
	if !drop && c.inflight > 0 {
		c.lastFrame = frame
		c.closing.Store(true)
		c.mu.Unlock()
		return
	}
	c.finalizeLocked(frame, drop)
}

// beginSend counts a send whose reply the store's journal will queue.
func (c *conn) beginSend() {
	c.mu.Lock()
	c.inflight++
	c.mu.Unlock()
}

// endSend is called once a send's reply is queued; the last one lets a
// waiting close frame go.
func (c *conn) endSend() {
	c.mu.Lock()
	c.inflight--
	if c.inflight == 0 && c.lastFrame != nil && !c.final {
		c.finalizeLocked(c.lastFrame, false)
		return // finalizeLocked unlocked c.mu
	}
	c.mu.Unlock()
}

// finalizeLocked is closeWith's body; it is called with c.mu held and
// releases it.
func (c *conn) finalizeLocked(frame []byte, drop bool) {
	if drop {
		clear(c.queue)
		c.queue = c.queue[:0]
		c.queued = 0
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame) + frameOverhead
	c.final = true
	c.closing.Store(true)
	c.corked = false // a close frame goes out whatever the state
	c.wakeReaderLocked()
	start := !c.scheduled
	c.scheduled = true
	c.mu.Unlock()
	if start {
		c.startWriting()
	}
}

// uncork lets the frames queued during setup go out.
func (c *conn) uncork() {
	c.mu.Lock()
	c.corked = false
	start := !c.scheduled && len(c.queue) > 0
	c.scheduled = c.scheduled || start
	c.mu.Unlock()
	if start {
		c.startWriting()
	}
}

// startWriting hands a newly scheduled connection to its owner.
func (c *conn) startWriting() {
	if c.raw != nil {
		c.w.ready(c)
		return
	}
	buf, final, ok := c.take(nil)
	if ok {
		c.srv.bg.Go(func() { c.drain(buf, final) })
	}
}

// take appends every queued frame to buf and empties the queue. final
// reports that the close frame is among them. When the queue was already
// empty, take gives up the write side (ok is false).
func (c *conn) take(buf []byte) (_ []byte, final, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.idleLocked()
		return buf, false, false
	}
	for _, f := range c.queue {
		buf = append(buf, f...)
	}
	clear(c.queue)
	c.queue = c.queue[:0]
	c.queued = 0
	c.wakeReaderLocked()
	return buf, c.final, true
}

// idleLocked gives up the write side. The queue's array is kept while the
// connection is busy, so that a sustained stream does not regrow it on every
// sweep, and released when it goes idle, so that a burst does not pin a large
// array to an idle connection.
func (c *conn) idleLocked() {
	c.scheduled = false
	if cap(c.queue) > 16 {
		c.queue = nil
	}
}

// pending reports whether frames arrived while the owner was writing; if
// none did, the owner gives up the write side.
func (c *conn) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) > 0 {
		return true
	}
	c.idleLocked()
	return false
}

// drain is the blocking path, run in a goroutine of its own: it writes buf
// under the write deadline, then everything queued meanwhile, until the
// queue is empty and the connection can go back to the writers' sweep.
func (c *conn) drain(buf []byte, final bool) {
	for {
		if err := c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout)); err != nil {
			c.abort()
			return
		}
		if _, err := c.nc.Write(buf); err != nil {
			c.abort()
			return
		}
		if final {
			c.finish()
			return
		}
		var ok bool
		buf, final, ok = c.take(buf[:0])
		if !ok {
			return
		}
	}
}

// finish runs after the close frame was written. If the client closed
// first, the close handshake is complete and the socket closes now.
// Otherwise it half-closes the TCP connection and gives the client
// closeGrace to answer before the reader gives up. The write side stays
// owned, so nothing is written after it.
func (c *conn) finish() {
	if c.peerClosed.Load() {
		_ = c.nc.Close()
		return
	}
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(closeGrace))
}

// abort drops the connection after a failed write; the reader sees the
// error and cleans up. The queue stops accepting frames, and the write side
// stays owned so that nothing else is written.
func (c *conn) abort() {
	c.cancel()
	c.mu.Lock()
	c.final = true
	clear(c.queue)
	c.queue = nil
	c.queued = 0
	c.wakeReaderLocked()
	c.mu.Unlock()
	c.closing.Store(true)
	_ = c.nc.Close()
}

// writeQueued is the writers' fast path for one connection: everything
// queued goes out in one non-blocking write; what the kernel did not take
// moves to the drain goroutine. It reports whether more frames arrived
// meanwhile and the connection needs another sweep.
func (c *conn) writeQueued(nw *nonblockingWriter, buf []byte) (_ []byte, again bool) {
	buf, final, ok := c.take(buf[:0])
	if !ok {
		return buf, false
	}
	n, err := nw.write(c.raw, buf)
	switch {
	case err != nil:
		c.abort()
		return buf, false
	case n < len(buf):
		rest := bytes.Clone(buf[n:])
		c.srv.bg.Go(func() { c.drain(rest, final) })
		return buf, false
	case final:
		c.finish()
		return buf, false
	}
	return buf, c.pending()
}
