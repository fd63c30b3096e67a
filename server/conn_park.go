package server

import "time"

// An idle connection has no reader goroutine. When its reader reaches a
// frame boundary with nothing to read, it parks: its socket goes into the
// poller's epoll set and the goroutine ends, so that an idle connection
// holds no goroutine stack (2 KiB, and more once the garbage collector
// counts it towards its goal) and no g. The poller starts the reader again
// (resume) when the socket has data or its end, when the read deadline set
// before parking has passed, and the outbox does when it closes the socket
// or starts the close handshake, which the reader must see.
//
// reader is readerRunning while a goroutine owns the reader, readerParked
// while none does; whoever moves it from parked to running starts that
// goroutine.
const (
	readerRunning uint32 = iota
	readerParked
)

// parkGap is the least time between a connection's last two frames for
// its reader to park after the second: a client that is busy keeps its
// goroutine, and parks once a frame (a pong, at the latest) comes after a
// pause. A variable for tests; a server takes it when it is made.
var parkGap = 100 * time.Millisecond

// parkInterval is how often the poller looks for parked connections whose
// idle deadline has passed: a tenth of the idle timeout, between 10 ms and
// a second, so that a deadline is kept within that much.
func parkInterval(idle time.Duration) time.Duration {
	return min(max(idle/10, 10*time.Millisecond), time.Second)
}

// park is called by the reader at a frame boundary, with nothing buffered
// and readBy the read deadline it has set. It reports whether the reader
// parked, in which case the goroutine must return without touching the
// reader's state: another may already be running it.
func (c *conn) park(readBy time.Time) bool {
	p := c.srv.poll
	if p == nil || c.out.raw == nil || c.out.closing.Load() || p.readable(c) {
		return false
	}
	c.readBy.Store(readBy.UnixNano())
	c.reader.Store(readerParked)
	if !p.arm(c) {
		// The socket is closed (or the poller failed): read on, and see.
		return !c.unpark()
	}
	// A close that began before the reader parked found it running and
	// did not wake it.
	if c.out.closing.Load() && c.unpark() {
		return false
	}
	c.out.shrink()
	return true
}

func (c *conn) parked() bool { return c.reader.Load() == readerParked }

// unpark takes the parked reader; it reports whether the caller now runs it.
func (c *conn) unpark() bool { return c.reader.CompareAndSwap(readerParked, readerRunning) }

// wake starts the reader again if it is parked. Any goroutine may call it.
func (c *conn) wake() {
	if c.unpark() {
		go resumeReader(c)
	}
}

// resumeReader is readLoop resumed. It is set in init because a direct
// call would close a loop through the request handlers' table
// (requestHandlers -> ... -> send -> finish -> wake -> readLoop ->
// handleText -> requestHandlers), which Go rejects as an initialization
// cycle.
var resumeReader func(*conn)

func init() { resumeReader = func(c *conn) { c.readLoop(nil, true) } }
