package client

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/protocol"
)

// Options configure Dial. The zero value connects as a guest, joins no
// room and does not reconnect.
type Options struct {
	// Name is the user name to connect as; empty asks the server for a
	// guest name.
	Name string
	// Session is the token from another connection's welcome event, needed
	// to connect as a Name that a connection already holds.
	Session string
	// Token signs in: a login token from the server's /api/login, or a JWT
	// the server accepts. It is sent in the Authorization header, and the
	// server then ignores Name and Session. A server that closes the
	// connection with 4001 (token expired or revoked) is not redialed.
	Token string
	// Rooms are joined by Dial before it returns.
	Rooms []string

	// Reconnect makes the client redial, with jittered exponential backoff
	// between MinBackoff (default 250ms) and MaxBackoff (default 30s), when
	// the connection ends for a reason worth retrying. It gives up only when
	// the server refuses the handshake for good (a bad or taken name) or
	// closes the connection for a client error (close codes 1002, 1003,
	// 1007, 1008, 1009) or because a signed-in user took the guest's name
	// (4002).
	Reconnect bool
	// URLs are more servers of the same cluster, tried after Dial's URL:
	// Dial tries each in turn until one accepts, and each redial moves on
	// to the next, so that a client of a node that died reconnects to
	// another. Reconnects rejoin the client's rooms with since, whichever
	// server they reach, so that each message is delivered once.
	URLs       []string
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// EventBuffer is the capacity of the Events channel; default 1024.
	EventBuffer int
	// DiscardEvents drops every event instead of delivering it, the
	// client's own (Disconnected, Reconnected) included, for programs that
	// only make requests.
	DiscardEvents bool

	// HTTPClient performs the handshakes. Default: a client that keeps no
	// idle connections.
	HTTPClient *http.Client
	// DialTimeout bounds each redial, handshake and welcome included;
	// default 10s. Dial itself is bounded by its context.
	DialTimeout time.Duration
	// WriteTimeout bounds writing one request to the socket; a write that
	// misses it closes the connection. Default 10s.
	WriteTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.EventBuffer <= 0 {
		o.EventBuffer = 1024
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultHTTPClient()
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	o.Rooms = slices.Clone(o.Rooms)
	return o
}

// defaultHTTPClient keeps no idle connections, so that a refused handshake
// leaves no connection (and no goroutine) behind.
var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	return &http.Client{Transport: t}
})

// readLimit bounds one incoming event. The server limits what clients send
// (64 KiB by default), and an event carrying such a text may be several
// times larger once escaped as JSON; a rooms reply grows with the server.
const readLimit = 4 << 20

// Client is a connection to a chatd server speaking chatd.v1. Create it with
// Dial and end it with Close. Its methods are safe for concurrent use.
type Client struct {
	urls   []*url.URL // Dial's URL, then Options.URLs
	at     int        // the index in urls of the server last dialed; used by Dial, then by run's goroutine
	opts   Options
	events chan Event

	ctx       context.Context // canceled by Close: aborts redials and reads
	cancel    context.CancelFunc
	closing   chan struct{} // closed by Close
	done      chan struct{} // closed when the reader goroutine has ended
	closeOnce sync.Once
	ids       atomic.Uint64

	mu      sync.Mutex
	ws      *websocket.Conn // nil while reconnecting and after the end
	ready   chan struct{}   // closed once ws is set; replaced when it is lost
	pending map[string]*call
	name    string
	session string
	limits  protocol.Limits
	pace    *pacer   // the current connection's send limits
	rooms   []string // joined rooms, in join order, as the server names them
	err     error    // why the client ended; set before done is closed
	pos     positions
	sending map[string]int // client_msg_ids of the sends waiting for their ack
	// unreadMentions are from the current connection's welcome.
	unreadMentions map[string][]uint64
}

// call is one request waiting for its reply.
type call struct {
	ws    *websocket.Conn // the connection the request went out on
	typ   string          // the request type, for errors
	reply chan reply      // buffered: the reader never waits on it
}

type reply struct {
	ack *Ack
	err error
}

// Dial connects to the chatd server at rawURL (such as
// ws://127.0.0.1:8082/ws), asking for the chatd.v1 subprotocol, reads the
// welcome event and joins opts.Rooms. The name and session query parameters
// are set from opts; others in rawURL are kept. A handshake the server
// refuses returns a *HandshakeError. Dial does not retry: Options.Reconnect
// applies once connected.
func Dial(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	var urls []*url.URL
	for _, raw := range append([]string{rawURL}, opts.URLs...) {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("chatd client: %w", err)
		}
		urls = append(urls, u)
	}
	opts = opts.withDefaults()
	c := &Client{
		urls:    urls,
		opts:    opts,
		events:  make(chan Event, opts.EventBuffer),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
		pending: make(map[string]*call),
	}
	var ws *websocket.Conn
	var w *protocol.Welcome
	var err error
	for c.at = range c.urls {
		if ws, w, err = c.connect(ctx, opts.Name, opts.Session); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.adopt(ws, w)
	go c.run(ws)
	for _, room := range opts.Rooms {
		if _, err := c.Join(ctx, room); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Name returns the user name the server gave this connection. It changes
// only when a guest reconnects.
func (c *Client) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

// Session returns the session token of the current connection: pass it as
// Options.Session to connect another client as the same user.
func (c *Client) Session() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// Limits returns what the server said it accepts, from its welcome event.
func (c *Client) Limits() protocol.Limits {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limits
}

// Joined returns the rooms the client is in, in the order it joined them.
func (c *Client) Joined() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.rooms)
}

// Events returns the channel of events from the server (and of
// Disconnected and Reconnected). It is closed when the client ends: after
// Close, or when the connection is lost for good. See the package
// documentation for what happens when nobody reads it.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the client has ended, after which every call fails
// with Err.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client ended (ErrClosed after Close), or nil while it
// runs or reconnects.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection with a close handshake, stops the reader
// goroutine and closes Events. Calls in progress return ErrClosed. Close
// returns nil; calling it again is harmless.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.mu.Lock()
		ws := c.ws
		c.mu.Unlock()
		if ws != nil {
			// The reader sees the server's answer and ends; a server that
			// does not answer is dropped after a few seconds.
			_ = ws.Close(websocket.StatusNormalClosure, "")
		}
		c.cancel()
		<-c.done
	})
	return nil
}

// Members is the start of a room's member list.
type Members struct {
	// Names are the first users present, sorted case-insensitively: all of
	// them in a small room, the first 100 in a large one.
	Names []string
	// Users counts every user present.
	Users int
}

// Join enters room and returns who is in it after the join. Joining a room
// twice is not an error.
func (c *Client) Join(ctx context.Context, room string) (Members, error) {
	ack, err := c.do(ctx, protocol.Request{Type: protocol.TypeJoin, Room: room}, true)
	if err != nil {
		return Members{}, err
	}
	return Members{Names: ack.Members, Users: ack.Users}, nil
}

// Leave leaves room.
func (c *Client) Leave(ctx context.Context, room string) error {
	_, err := c.do(ctx, protocol.Request{Type: protocol.TypeLeave, Room: room}, true)
	return err
}

// Send sends text to room, which the client must have joined, and returns
// the server's ack (Seq, TS, Duplicate). It gives the message a random
// client_msg_id and, until ctx ends, sends it again with the same id when
// the server answers rate_limited (after its retry_after_ms) or when the
// connection drops before the ack (once reconnected). Sends and direct
// messages wait for the send limits of the server's welcome (send_rate,
// send_burst, send_byte_rate), so a burst of them is paced, not refused. The
// server delivers a message once per user, room and client_msg_id within two
// minutes, so the retries do not duplicate it; only across a server restart,
// which forgets the ids, may a retried message arrive twice.
func (c *Client) Send(ctx context.Context, room, text string) (*Ack, error) {
	return c.SendID(ctx, room, text, NewMsgID())
}

// SendID is Send with a client_msg_id of the caller's choice (at most 64
// bytes), so that a caller can repeat a send whose outcome it does not know,
// even from another client of the same user.
func (c *Client) SendID(ctx context.Context, room, text, clientMsgID string) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeSend, Room: room, Text: &text, ClientMsgID: clientMsgID}, true)
}

// Edit replaces the text of the user's own message target (its Seq) in
// room. Like Send it is paced by the send limits and retried with the same
// client_msg_id across a reconnect, and applied once. A refusal is a
// *ServerError: not_found, forbidden, not_member.
func (c *Client) Edit(ctx context.Context, room string, target uint64, text string) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeEdit, Room: room, Target: target, Text: &text, ClientMsgID: NewMsgID()}, true)
}

// React adds the user's reaction emoji (a :name: or one Unicode emoji) to
// message target of room; Unreact takes it back. Both are paced, retried
// and applied once like Edit. A refusal is a *ServerError: bad_request for
// an invalid emoji, not_found, reaction_limit, not_member.
func (c *Client) React(ctx context.Context, room string, target uint64, emoji string) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeReact, Room: room, Target: target, Emoji: emoji, ClientMsgID: NewMsgID()}, true)
}

// Unreact takes back the user's reaction emoji to message target of room.
func (c *Client) Unreact(ctx context.Context, room string, target uint64, emoji string) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeUnreact, Room: room, Target: target, Emoji: emoji, ClientMsgID: NewMsgID()}, true)
}

// Delete deletes message target (its Seq) of room: the user's own, or any
// in a private room the user owns. It is paced, retried and applied once
// like Edit.
func (c *Client) Delete(ctx context.Context, room string, target uint64) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeDelete, Room: room, Target: target, ClientMsgID: NewMsgID()}, true)
}

// DM sends a direct message to the user named to. It waits and retries when
// the server answers rate_limited, but a dm in flight when the connection
// drops returns an error wrapping ErrDisconnected: the server does not
// deduplicate direct messages, so it may have been delivered.
func (c *Client) DM(ctx context.Context, to, text string) (*Ack, error) {
	return c.doLimited(ctx, protocol.Request{Type: protocol.TypeDM, To: to, Text: &text, ClientMsgID: NewMsgID()}, false)
}

// Rooms lists every room on the server with at least one member (and the
// private rooms of the user), sorted by name. A long list comes from the
// server in pages; Rooms asks for each in turn.
func (c *Client) Rooms(ctx context.Context) ([]protocol.RoomInfo, error) {
	var rooms []protocol.RoomInfo
	cursor := ""
	for {
		ack, err := c.do(ctx, protocol.Request{Type: protocol.TypeRooms, Cursor: cursor}, true)
		if err != nil {
			return nil, err
		}
		rooms = append(rooms, ack.Rooms...)
		if !ack.More || ack.Cursor == "" || ack.Cursor <= cursor {
			return rooms, nil
		}
		cursor = ack.Cursor
	}
}

// Who lists the users in room, sorted case-insensitively. A long list
// comes from the server in pages; Who asks for each in turn. A room nobody
// is in is the error unknown_room.
func (c *Client) Who(ctx context.Context, room string) ([]string, error) {
	var names []string
	cursor := ""
	for {
		ack, err := c.do(ctx, protocol.Request{Type: protocol.TypeWho, Room: room, Cursor: cursor}, true)
		if err != nil {
			return nil, err
		}
		names = append(names, ack.Members...)
		if !ack.More || ack.Cursor == "" || ack.Cursor == cursor {
			return names, nil
		}
		cursor = ack.Cursor
	}
}

// History returns up to limit messages of room older than before (0: the
// newest), oldest first, and whether older ones remain. The server may
// return fewer than limit, to keep a reply within its byte limit, and
// still say more: ask again with before set to the first message's Seq. A
// server without a store answers with the error unavailable.
func (c *Client) History(ctx context.Context, room string, before uint64, limit int) ([]protocol.Message, bool, error) {
	ack, err := c.do(ctx, protocol.Request{Type: protocol.TypeHistory, Room: room, Before: before, Limit: limit}, true)
	if err != nil {
		return nil, false, err
	}
	return ack.Messages, ack.More, nil
}

// Typing tells the other members of room that this user is typing. Calling
// it on every keystroke is fine: the server forwards at most one typing
// event per user and room every two seconds.
func (c *Client) Typing(ctx context.Context, room string) error {
	_, err := c.do(ctx, protocol.Request{Type: protocol.TypeTyping, Room: room}, false)
	return err
}

// NewMsgID returns a random client_msg_id.
func NewMsgID() string { return crand.Text() }

// doLimited is do for a request that counts against the send limits: it
// waits until the limits the welcome announced allow it, and repeats it,
// after the server's retry_after_ms, while the server answers rate_limited.
// A refused request changes nothing on the server, so repeating it is safe.
func (c *Client) doLimited(ctx context.Context, req protocol.Request, retry bool) (*Ack, error) {
	for {
		c.mu.Lock()
		pace, name := c.pace, c.name
		c.mu.Unlock()
		if err := pace.wait(ctx, cost(req, name)); err != nil {
			return nil, err
		}
		ack, err := c.do(ctx, req, retry)
		if ErrorCode(err) != protocol.CodeRateLimited {
			return ack, err
		}
		d := 100 * time.Millisecond
		if r := c.Limits().SendRate; r > 0 {
			d = time.Duration(float64(time.Second) / r)
		}
		wait := jitter(d)
		if se, ok := errors.AsType[*ServerError](err); ok && se.RetryAfter > 0 {
			// Never sooner than the server said: a byte allowance may take
			// far longer to refill than one message's interval.
			wait = se.RetryAfter + jitter(se.RetryAfter/4)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// do sends one request and waits for its reply. When the connection drops
// before the reply, it sends the request again once reconnected if retry is
// set, and returns an error wrapping ErrDisconnected if not.
func (c *Client) do(ctx context.Context, req protocol.Request, retry bool) (*Ack, error) {
	if id := req.ClientMsgID; id != "" {
		c.mu.Lock()
		if c.sending == nil {
			c.sending = make(map[string]int)
		}
		c.sending[id]++
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			if c.sending[id]--; c.sending[id] <= 0 {
				delete(c.sending, id)
			}
			c.mu.Unlock()
		}()
	}
	for {
		ws, err := c.conn(ctx)
		if err != nil {
			return nil, err
		}
		ack, err := c.roundTrip(ctx, ws, req)
		if retry && errors.Is(err, ErrDisconnected) {
			continue
		}
		return ack, err
	}
}

func (c *Client) roundTrip(ctx context.Context, ws *websocket.Conn, req protocol.Request) (*Ack, error) {
	req.ID = strconv.FormatUint(c.ids.Add(1), 10)
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cl := &call{ws: ws, typ: req.Type, reply: make(chan reply, 1)}
	c.mu.Lock()
	if lim := c.limits.MaxMessageBytes; lim > 0 && len(b) > lim {
		c.mu.Unlock()
		return nil, &TooLargeError{Size: len(b), Limit: lim}
	}
	if c.ws != ws {
		c.mu.Unlock()
		return nil, ErrDisconnected // lost meanwhile; do tries again
	}
	c.pending[req.ID] = cl
	c.mu.Unlock()

	if err := c.write(ws, b); err != nil {
		c.forget(req.ID)
		// The frame may have been written in part; the connection is
		// unusable. Closing it makes the reader notice and reconnect;
		// retiring it now keeps other requests from trying it meanwhile.
		_ = ws.CloseNow()
		c.lost(ws)
		if c.isClosing() {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("%w: %v", ErrDisconnected, err)
	}
	select {
	case r := <-cl.reply:
		return r.ack, r.err
	case <-ctx.Done():
		c.forget(req.ID)
		return nil, ctx.Err()
	}
}

func (c *Client) write(ws *websocket.Conn, b []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.WriteTimeout)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, b)
}

func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// conn returns the current connection, waiting while the client
// reconnects.
func (c *Client) conn(ctx context.Context) (*websocket.Conn, error) {
	for {
		c.mu.Lock()
		ws, ready, err := c.ws, c.ready, c.err
		c.mu.Unlock()
		switch {
		case err != nil:
			return nil, err
		case ws != nil:
			return ws, nil
		}
		select {
		case <-ready:
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *Client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// sleep waits for d, or until ctx ends or the client ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.Err()
	}
}

// jitter returns a duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
