package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/protocol"
)

// connect dials the server as name with session, checks that it speaks
// chatd.v1 and reads the welcome event.
func (c *Client) connect(ctx context.Context, name, session string) (*websocket.Conn, *protocol.Welcome, error) {
	u := *c.urls[c.at]
	q := u.Query()
	for k, v := range map[string]string{"name": name, "session": session} {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	opts := &websocket.DialOptions{
		HTTPClient:   c.opts.HTTPClient,
		Subprotocols: []string{protocol.SubprotocolV1},
	}
	if c.opts.Token != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + c.opts.Token}}
	}
	ws, resp, err := websocket.Dial(ctx, u.String(), opts)
	if err != nil {
		if resp != nil && resp.StatusCode != 0 && resp.StatusCode != http.StatusSwitchingProtocols {
			he := &HandshakeError{StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header)}
			if resp.Body != nil {
				b, _ := io.ReadAll(resp.Body)
				he.Reason = strings.TrimSpace(string(b))
			}
			return nil, nil, he
		}
		// The error does not repeat the URL, which may carry the session
		// token.
		return nil, nil, fmt.Errorf("chatd client: connect to %s: %w", u.Host, err)
	}
	if p := ws.Subprotocol(); p != protocol.SubprotocolV1 {
		_ = ws.CloseNow()
		return nil, nil, fmt.Errorf("chatd client: the server at %s did not accept the subprotocol %s (got %q): not a chatd server?", u.Host, protocol.SubprotocolV1, p)
	}
	ws.SetReadLimit(readLimit)
	typ, b, err := ws.Read(ctx)
	if err != nil {
		_ = ws.CloseNow()
		return nil, nil, fmt.Errorf("chatd client: reading the welcome event: %w", err)
	}
	var w protocol.Welcome
	if typ != websocket.MessageText || json.Unmarshal(b, &w) != nil || w.Type != protocol.TypeWelcome {
		_ = ws.CloseNow()
		return nil, nil, fmt.Errorf("chatd client: want a welcome event first, got %.200q", b)
	}
	return ws, &w, nil
}

// adopt makes ws, whose welcome was w, the connection requests use.
func (c *Client) adopt(ws *websocket.Conn, w *protocol.Welcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws = ws
	c.name, c.session, c.limits = w.Name, w.Session, w.Limits
	c.unreadMentions = w.UnreadMentions
	c.pace = newPacer(w.Limits)
	close(c.ready)
}

// run is the client's one goroutine: it reads ws until it fails, then
// reconnects or ends the client.
func (c *Client) run(ws *websocket.Conn) {
	defer close(c.done)
	defer close(c.events)
	for {
		err := c.readLoop(ws)
		_ = ws.CloseNow()
		c.lost(ws)
		switch {
		case c.isClosing():
			c.finish(ErrClosed)
			return
		case !c.opts.Reconnect || !retryable(err):
			c.finish(fmt.Errorf("chatd client: connection lost: %w", err))
			return
		}
		if !c.emit(&Disconnected{Err: err}) {
			c.finish(ErrClosed)
			return
		}
		if ws = c.reconnect(); ws == nil {
			return
		}
	}
}

func (c *Client) readLoop(ws *websocket.Conn) error {
	for {
		_, b, err := ws.Read(c.ctx)
		if err != nil {
			if ce, ok := errors.AsType[websocket.CloseError](err); ok {
				return &CloseError{Code: int(ce.Code), Reason: ce.Reason}
			}
			return err
		}
		if err := c.handle(b); err != nil {
			return err
		}
	}
}

// handle dispatches one frame from the server: a reply to its request, an
// event to Events. It fails only when Close interrupts it.
func (c *Client) handle(b []byte) error {
	var head struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &head) != nil {
		return nil // the server sends only JSON objects; ignore anything else
	}
	switch head.Type {
	case protocol.TypeAck:
		a := &Ack{Raw: b}
		if json.Unmarshal(b, &a.Ack) != nil {
			return nil
		}
		c.mu.Lock()
		// The room list follows the server's acks, including those of
		// requests whose caller stopped waiting.
		switch a.Request {
		case protocol.TypeJoin:
			if !slices.Contains(c.rooms, a.Room) {
				c.rooms = append(c.rooms, a.Room)
			}
			if !c.pos.replayed(a.Room, a.Last, a.More) {
				c.pos.joined(a.Room, a.Last)
			}
		case protocol.TypeLeave:
			c.rooms = slices.DeleteFunc(slices.Clone(c.rooms), func(r string) bool { return r == a.Room })
			c.pos.left(a.Room)
		case protocol.TypeSend, protocol.TypeEdit, protocol.TypeDelete, protocol.TypeReact, protocol.TypeUnreact:
			c.pos.sent(a.Room, a.Seq)
		}
		cl := c.take(a.ID)
		c.mu.Unlock()
		if cl != nil {
			cl.reply <- reply{ack: a}
		}
	case protocol.TypeError:
		var e protocol.ErrorEvent
		if json.Unmarshal(b, &e) != nil {
			return nil
		}
		c.mu.Lock()
		cl := c.take(e.ID)
		c.mu.Unlock()
		if cl != nil {
			cl.reply <- reply{err: &ServerError{Request: cl.typ, Code: e.Code, Message: e.Message,
				RetryAfter: time.Duration(e.RetryAfterMS) * time.Millisecond}}
		}
	default:
		if m, ok := roomSeq(head.Type, b); ok {
			c.mu.Lock()
			held := c.pos.hold(m.Room, head.Type, m.Seq, b)
			c.mu.Unlock()
			if held {
				return nil
			}
		}
		return c.deliver(head.Type, b)
	}
	return nil
}

// deliver emits the event b of type typ, unless it is a room event the
// client has had already or one of its own sends. It fails only when Close
// interrupts it.
func (c *Client) deliver(typ string, b []byte) error {
	if m, ok := roomSeq(typ, b); ok {
		c.mu.Lock()
		isFresh := c.pos.fresh
		if typ == protocol.TypeReactions {
			isFresh = c.pos.freshRun
		}
		fresh := isFresh(m.Room, m.Seq)
		// A replay after a reconnect may hold a send whose ack the
		// lost connection never carried: it is still the client's own.
		if fresh && m.ClientMsgID != "" && m.From == c.name && c.sending[m.ClientMsgID] > 0 {
			fresh = false
		}
		c.mu.Unlock()
		if !fresh {
			return nil
		}
	}
	ev, err := decodeEvent(typ, b)
	if err != nil || ev == nil {
		return nil
	}
	if !c.emit(ev) {
		return ErrClosed
	}
	return nil
}

// take removes and returns the call waiting for the reply id; c.mu is held.
func (c *Client) take(id string) *call {
	cl := c.pending[id]
	delete(c.pending, id)
	return cl
}

// emit delivers ev, waiting for room in Events unless Close is called.
func (c *Client) emit(ev Event) bool {
	if c.opts.DiscardEvents {
		return true
	}
	select {
	case c.events <- ev:
		return true
	case <-c.closing:
		return false
	}
}

// lost retires ws: requests stop using it, and the calls waiting for a
// reply on it fail with ErrDisconnected (ErrClosed during Close).
func (c *Client) lost(ws *websocket.Conn) {
	err := ErrDisconnected
	if c.isClosing() {
		err = ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws == ws {
		c.ws = nil
		c.ready = make(chan struct{})
	}
	for id, cl := range c.pending {
		if cl.ws == ws {
			cl.reply <- reply{err: err}
			delete(c.pending, id)
		}
	}
}

// finish ends the client with err; the reader goroutine returns next.
func (c *Client) finish(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	c.ws = nil
	for id, cl := range c.pending {
		cl.reply <- reply{err: err}
		delete(c.pending, id)
	}
}

// retryable reports whether a connection that ended with err is worth
// redialing: everything but a close for a client error, which would recur.
func retryable(err error) bool {
	ce, ok := errors.AsType[*CloseError](err)
	if !ok {
		return true
	}
	switch websocket.StatusCode(ce.Code) {
	case websocket.StatusProtocolError, websocket.StatusUnsupportedData,
		websocket.StatusInvalidFramePayloadData, websocket.StatusPolicyViolation,
		websocket.StatusMessageTooBig, websocket.StatusCode(protocol.CloseUnauthorized),
		websocket.StatusCode(protocol.CloseNameClaimed):
		return false
	}
	return true
}

// reconnect redials with jittered exponential backoff until it connects
// and has rejoined the client's rooms, Close is called, or the server
// refuses the handshake for good. It returns nil when the client has ended.
func (c *Client) reconnect() *websocket.Conn {
	c.mu.Lock()
	want := c.rooms
	c.mu.Unlock()
	var wait time.Duration // at least this long before the next dial
	for attempt := 1; ; attempt++ {
		d := max(jitter(backoff(c.opts.MinBackoff, c.opts.MaxBackoff, attempt-1)), wait)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.closing:
			t.Stop()
			c.finish(ErrClosed)
			return nil
		}
		c.mu.Lock()
		name, session := c.name, c.session
		c.mu.Unlock()
		if c.opts.Name == "" {
			name, session = "", "" // guest names are given, not asked for
		}
		// Each redial tries the next server: the last one may be gone.
		c.at = (c.at + 1) % len(c.urls)
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.DialTimeout)
		ws, w, err := c.connect(ctx, name, session)
		var joined []string
		var rejoinErr error
		if err == nil {
			joined, rejoinErr, err = c.rejoin(ctx, ws, want)
			if err != nil {
				_ = ws.CloseNow()
				c.lost(ws)
			}
		}
		cancel()
		if c.isClosing() {
			if err == nil {
				_ = ws.CloseNow()
			}
			c.finish(ErrClosed)
			return nil
		}
		if err != nil {
			wait = 0
			if he, ok := errors.AsType[*HandshakeError](err); ok {
				if !he.Temporary() {
					c.finish(fmt.Errorf("chatd client: reconnect: %w", err))
					return nil
				}
				wait = he.RetryAfter
			}
			continue
		}
		c.adopt(ws, w)
		c.emit(&Reconnected{Name: w.Name, Rooms: joined, Attempts: attempt, Err: rejoinErr})
		return ws
	}
}

// rejoin joins rooms on the new connection ws before any other request may
// use it, reading (and dispatching) frames until every join is answered,
// then catches up each room whose replay stopped at a server limit. The
// first error is a join the server refused, the second one a failure of
// the connection.
func (c *Client) rejoin(ctx context.Context, ws *websocket.Conn, rooms []string) ([]string, error, error) {
	c.mu.Lock()
	c.rooms = nil // the acks below add the rooms back
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.pos.endCatchUps()
		c.mu.Unlock()
	}()
	calls := make([]*call, len(rooms))
	for i, room := range rooms {
		req := protocol.Request{Type: protocol.TypeJoin, Room: room}
		c.mu.Lock()
		if at, ok := c.pos.since(room); ok {
			req.Since = &at
			c.pos.startCatchUp(room)
		}
		c.mu.Unlock()
		cl, err := c.post(ctx, ws, req)
		if err != nil {
			return nil, nil, err
		}
		calls[i] = cl
	}
	var joined []string
	var refused []error
	for i, cl := range calls {
		r, err := c.await(ctx, ws, cl)
		if err != nil {
			return nil, nil, err
		}
		if r.err != nil {
			refused = append(refused, fmt.Errorf("rejoin %s: %w", rooms[i], r.err))
		} else {
			joined = append(joined, r.ack.Room)
		}
	}
	// Catching up is not bounded by the dial's timeout: a long absence
	// takes many pages, at the server's history rate.
	for _, room := range joined {
		if err := c.catchUp(c.ctx, ws, room); err != nil {
			return nil, nil, err
		}
	}
	return joined, errors.Join(refused...), nil
}

// post sends req on ws, which no other request uses yet (the connection
// is being set up), and returns the call its reply will reach.
func (c *Client) post(ctx context.Context, ws *websocket.Conn, req protocol.Request) (*call, error) {
	req.ID = strconv.FormatUint(c.ids.Add(1), 10)
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cl := &call{ws: ws, typ: req.Type, reply: make(chan reply, 1)}
	c.mu.Lock()
	c.pending[req.ID] = cl
	c.mu.Unlock()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, err
	}
	return cl, nil
}

// await reads (and dispatches) frames from ws until cl's reply has come.
// The error is a failure of the connection.
func (c *Client) await(ctx context.Context, ws *websocket.Conn, cl *call) (reply, error) {
	for len(cl.reply) == 0 {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return reply{}, err
		}
		if err := c.handle(b); err != nil {
			return reply{}, err
		}
	}
	return <-cl.reply, nil
}

// backoff returns min·2ⁿ, at most max.
func backoff(min, max time.Duration, n int) time.Duration {
	d := min
	for range n {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return d
}
