package server

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/hub"
	"golang.org/x/time/rate"
)

// conn is one WebSocket connection. Its reader goroutine owns decoding and
// the fields marked reader-owned; its outbox may be filled from any
// goroutine, and owns the write side of the socket. The socket is out.nc,
// whose read side is the reader's.
type conn struct {
	srv *Server
	// calls are the store calls running for the connection, which end
	// when it does (abort) or when a shutdown stops waiting for it.
	calls connCalls
	id    uint64
	addr  netip.Prefix // the client's address, as per-address limits count it
	sess  *session     // the user behind the connection

	// authMu guards whom the connection speaks for (see identity), which
	// an auth request changes while other goroutines look for
	// connections to revoke. A guest is its name alone; what only a
	// signed-in connection needs sits behind signed.
	authMu sync.Mutex
	guest  string
	signed *signedIdentity

	// Reader-owned.
	rooms roomSet // rooms joined
	// active is made when the connection first sends a message or a
	// request that needs it (see act): an idle connection holds none.
	active *connActive

	format hub.Format
	// reader and readBy are the reader's parking (conn_park.go): whether
	// a goroutine runs it, and the read deadline it parked with (Unix ns).
	reader atomic.Uint32
	readBy atomic.Int64
	opened int64 // Unix ns, for the close log

	// handling is held while the reader carries out a request, so that a
	// shutdown's close frame never falls between a message's delivery and
	// its ack.
	handling sync.Mutex

	out outbox
}

// connActive is the reader's state of a connection that has sent
// something: its limits, refusals and typing. Only the reader touches it.
type connActive struct {
	// limiter and byteLimiter are made at the first message (sendLimits);
	// byteLimiter charges the bytes of what the connection sends to its
	// recipients. nil: not yet made, or no limit.
	limiter     *rate.Limiter
	byteLimiter *rate.Limiter
	// reqLimits is made at the first request, and each limiter at its
	// class's first request.
	reqLimits *[numClasses]*rate.Limiter
	strikes   int // consecutive refused requests
	lastTyped map[string]time.Time
}

// plainRoom is the room a plain client chats in, joined at connect: its
// only room, which it leaves only as it ends. (Not a field of its own:
// 16 bytes per connection.) Only the reader calls it.
func (c *conn) plainRoom() string {
	if len(c.rooms) == 0 {
		return ""
	}
	return c.rooms[0]
}

// act returns the reader's state for a connection that sends, making it
// the first time. Only the reader calls it.
func (c *conn) act() *connActive {
	if c.active == nil {
		c.active = new(connActive)
	}
	return c.active
}

// Deliver implements hub.Subscriber. It never blocks (see outbox.deliver).
func (c *conn) Deliver(frame []byte, droppable bool) { c.out.deliver(frame, droppable) }

var _ hub.PairSubscriber = (*conn)(nil)

// DeliverPair is hub.PairSubscriber's: two frames that arrived together.
func (c *conn) DeliverPair(first, second []byte) { c.out.deliverPair(first, second) }

// send queues a frame for this connection alone, such as a reply.
func (c *conn) send(frame []byte) { c.out.deliver(frame, false) }

// closeWith queues a close frame as the last frame for this connection,
// after what is owed to the client unless drop (see outbox.closeWith).
func (c *conn) closeWith(frame []byte, drop bool) { c.out.closeWith(frame, drop) }

// Format implements hub.Subscriber.
func (c *conn) Format() hub.Format { return c.format }

// User implements hub.Subscriber.
func (c *conn) User() string { return c.sess.key }

// Name implements hub.Subscriber.
func (c *conn) Name() string { return c.sess.name }
