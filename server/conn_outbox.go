package server

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// outbox is a connection's outbound engine: the queue of frames waiting
// for the socket, and the write side of the socket. Frames may be queued
// from any goroutine; a writer (conn_writer.go) or the outbox's own drain
// goroutine writes them.
//
// The write side of the socket has exactly one owner at a time: whoever set
// scheduled (a writer sweeping it, or the drain goroutine). Nobody else
// writes to nc.
type outbox struct {
	// Set when the connection is built, then read-only.
	nc  net.Conn
	raw syscall.RawConn // nil when nc cannot be written without blocking
	// c is the connection: abort ends its store calls, and a close wakes
	// its parked reader, which must see it. Its server (srv) gives the
	// queue's limit and write timeout, counts slow consumers closed, runs
	// drain goroutines, which it waits for, and has the connection's
	// writer (writer). Neither is held here: 16 bytes per connection.
	c *conn

	// closing is set once a close frame is queued; the reader then stops
	// extending its idle deadline and ignores further messages.
	closing atomic.Bool
	// evicted records that the queue overflowed, for the close log.
	evicted atomic.Bool
	// peerClosed is set when the client sent a close frame first; once our
	// answer is written the handshake is complete and the socket can close.
	peerClosed atomic.Bool

	mu sync.Mutex
	// paired counts the frames queued as the second of a pair
	// (deliverPair): they arrived with the frame before them, and take
	// does not count them as arrivals. It fits the padding after mu (after
	// swept it took 8 bytes more, drained being 8-aligned).
	paired    uint32
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
	// awaiting is set while the reader waits in waitBelow; whoever empties
	// the queue then signals drained.
	awaiting bool
	// swept is the number of the writer's sweep that last wrote to the
	// socket (conn_writer.go). Only the write side's owner touches it, not
	// under mu; it fits the padding before drained.
	swept uint32
	// drained has capacity 1; the first wait makes it, so that a
	// connection that never waits holds no channel (112 bytes).
	drained chan struct{}
}

// init readies o to write to nc for c, corked.
func (o *outbox) init(nc net.Conn, c *conn) {
	o.nc, o.raw, o.c = nc, rawConnOf(nc), c
	o.corked = true
}

// srv is the connection's server.
func (o *outbox) srv() *Server { return o.c.srv }

// writer is the writer that sweeps o, by the connection's id.
func (o *outbox) writer() *writer {
	ws := o.c.srv.writers
	return ws[o.c.id%uint64(len(ws))]
}

// deliver queues frame without blocking, and on overflow replaces the
// queue by a 1013 close frame. A droppable frame is discarded instead when
// the queue is half full, so that typing indicators never push a lagging
// client over the edge.
func (o *outbox) deliver(frame []byte, droppable bool) { o.queueFrames(frame, nil, droppable) }

// deliverPair queues first and second, which arrived together, like
// deliver; the writers' hold counts them as one arrival (see take).
func (o *outbox) deliverPair(first, second []byte) { o.queueFrames(first, second, false) }

// queueFrames queues frame, and then second unless it is nil.
func (o *outbox) queueFrames(frame, second []byte, droppable bool) {
	o.mu.Lock()
	if o.final {
		o.mu.Unlock()
		return
	}
	size := len(frame) + frameOverhead
	if second != nil {
		size += len(second) + frameOverhead
	}
	if droppable && o.queued+size > o.srv().cfg.QueueBytes/2 {
		o.mu.Unlock()
		return
	}
	if o.queued+size > o.srv().cfg.QueueBytes {
		o.evicted.Store(true)
		o.srv().stats.slowEvictions.Add(1)
		o.finalizeLocked(closeSlowConsumer, true)
		return // finalizeLocked unlocked o.mu
	}
	o.queue = append(o.queue, frame)
	if second != nil {
		o.queue = append(o.queue, second)
		o.paired++
	}
	o.queued += size
	start := !o.scheduled && !o.corked
	o.scheduled = o.scheduled || start
	o.mu.Unlock()
	if start {
		o.startWriting()
	}
}

// closeWith queues a close frame as the last frame. With drop, frames
// still queued are discarded first. Otherwise everything already owed to
// the client goes out before it: the frames queued, and the replies of
// sends still waiting for the store, for which the close waits (the
// journal always reports, within its append timeout). Only the first call
// has an effect, except that a drop overrides a close still waiting.
func (o *outbox) closeWith(frame []byte, drop bool) {
	o.mu.Lock()
	if o.final || !drop && o.lastFrame != nil {
		o.mu.Unlock()
		return
	}
	if !drop && o.inflight > 0 {
		o.lastFrame = frame
		o.closing.Store(true)
		o.mu.Unlock()
		return
	}
	o.finalizeLocked(frame, drop)
}

// beginSend counts a send whose reply the store's journal will queue. It
// reports false, counting nothing, once a close frame is queued or waits
// for the sends in flight: the reader checks closing before it handles a
// request, but a close (a shutdown's, say) can come between that check and
// this, and a send taken then would reach the room while its ack, queued
// after the close frame, never reached its sender.
func (o *outbox) beginSend() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.final || o.lastFrame != nil {
		return false
	}
	o.inflight++
	return true
}

// endSend is called once a send's reply is queued; the last one lets a
// waiting close frame go.
func (o *outbox) endSend() {
	o.mu.Lock()
	o.inflight--
	if o.inflight == 0 && o.lastFrame != nil && !o.final {
		o.finalizeLocked(o.lastFrame, false)
		return // finalizeLocked unlocked o.mu
	}
	o.mu.Unlock()
}

// finalizeLocked is closeWith's body; it is called with o.mu held and
// releases it.
func (o *outbox) finalizeLocked(frame []byte, drop bool) {
	if drop {
		clear(o.queue)
		o.queue = o.queue[:0]
		o.paired = 0
		o.queued = 0
	}
	o.queue = append(o.queue, frame)
	o.queued += len(frame) + frameOverhead
	o.final = true
	o.closing.Store(true)
	o.corked = false // a close frame goes out whatever the state
	o.wakeReaderLocked()
	start := !o.scheduled
	o.scheduled = true
	o.mu.Unlock()
	if start {
		o.startWriting()
	}
}

// uncork lets the frames queued during setup go out.
func (o *outbox) uncork() {
	o.mu.Lock()
	o.corked = false
	start := !o.scheduled && len(o.queue) > 0
	o.scheduled = o.scheduled || start
	o.mu.Unlock()
	if start {
		o.startWriting()
	}
}

// startWriting hands a newly scheduled outbox to its owner.
func (o *outbox) startWriting() {
	if o.raw != nil {
		o.writer().ready(o)
		return
	}
	buf, frames, final := o.take(nil)
	if frames > 0 {
		o.srv().bg.Go(func() { o.drain(buf, final) })
	}
}

// take appends every queued frame to buf, counting them as arrivals (the
// second frame of a pair arrived with the first and is not counted), and
// empties the queue. final reports that the close frame is among them.
// When the queue was already empty, take gives up the write side (frames
// is 0).
func (o *outbox) take(buf []byte) (_ []byte, frames int, final bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	frames = len(o.queue) - int(o.paired)
	o.paired = 0
	if frames == 0 {
		o.idleLocked()
		return buf, 0, false
	}
	for _, f := range o.queue {
		buf = append(buf, f...)
	}
	clear(o.queue)
	o.queue = o.queue[:0]
	o.queued = 0
	o.wakeReaderLocked()
	return buf, frames, o.final
}

// idleLocked gives up the write side. The queue's array is kept while the
// connection is busy, so that a sustained stream does not regrow it on every
// sweep, and released when it goes idle, so that a burst does not pin a large
// array to an idle connection. A connection whose reader is parked has been
// quiet for a while: it gives up even a small array (8 to 128 bytes, about
// 36 a connection among 10,000 idle JSON clients in a room), which its next
// frame, after a presence diff or a ping, makes again.
func (o *outbox) idleLocked() {
	o.scheduled = false
	if cap(o.queue) > 16 || o.c.parked() {
		o.queue = nil
	}
}

// shrink releases the queue's array if the queue is empty and nobody is
// writing; the reader calls it as it parks.
func (o *outbox) shrink() {
	o.mu.Lock()
	if !o.scheduled && len(o.queue) == 0 {
		o.queue = nil
	}
	o.mu.Unlock()
}

// pending reports whether frames arrived while the owner was writing; if
// none did, the owner gives up the write side.
func (o *outbox) pending() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) > 0 {
		return true
	}
	o.idleLocked()
	return false
}

// drain is the blocking path, run in a goroutine of its own: it writes buf
// under the write deadline, then everything queued meanwhile, until the
// queue is empty and the outbox can go back to the writers' sweep.
func (o *outbox) drain(buf []byte, final bool) {
	for {
		if err := o.nc.SetWriteDeadline(time.Now().Add(o.srv().cfg.WriteTimeout)); err != nil {
			o.abort()
			return
		}
		o.srv().stats.drainWrites.Add(1)
		if _, err := o.nc.Write(buf); err != nil {
			o.abort()
			return
		}
		if final {
			o.finish()
			return
		}
		var frames int
		buf, frames, final = o.take(buf[:0])
		if frames == 0 {
			return
		}
	}
}

// finish runs after the close frame was written. If the client closed
// first, the close handshake is complete and the socket closes now.
// Otherwise it half-closes the TCP connection and gives the client
// closeGrace to answer before the reader gives up. The write side stays
// owned, so nothing is written after it.
func (o *outbox) finish() {
	if o.peerClosed.Load() {
		_ = o.nc.Close()
		o.c.wake()
		return
	}
	if tc, ok := o.nc.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_ = o.nc.SetReadDeadline(time.Now().Add(closeGrace))
	o.c.wake()
}

// abort drops the connection after a failed write; the reader sees the
// error and cleans up. The queue stops accepting frames, and the write side
// stays owned so that nothing else is written.
func (o *outbox) abort() {
	o.c.calls.drop()
	o.mu.Lock()
	o.final = true
	clear(o.queue)
	o.queue = nil
	o.paired = 0
	o.queued = 0
	o.wakeReaderLocked()
	o.mu.Unlock()
	o.closing.Store(true)
	_ = o.nc.Close()
	o.c.wake()
}

// writeQueued is the writers' fast path for one outbox: everything queued
// goes out in one non-blocking write; what the kernel did not take moves to
// the drain goroutine. It reports how many frames it wrote (0: it made no
// write), and whether more frames arrived meanwhile and the outbox needs
// another sweep.
func (o *outbox) writeQueued(nw *nonblockingWriter, buf []byte) (_ []byte, frames int, again bool) {
	buf, frames, final := o.take(buf[:0])
	if frames == 0 {
		return buf, 0, false
	}
	n, err := nw.write(o.raw, buf)
	switch {
	case err != nil:
		o.abort()
		return buf, frames, false
	case n < len(buf):
		rest := bytes.Clone(buf[n:])
		o.srv().bg.Go(func() { o.drain(rest, final) })
		return buf, frames, false
	case final:
		o.finish()
		return buf, frames, false
	}
	return buf, frames, o.pending()
}
