package server

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// handleWS upgrades GET /ws. A client that offers the subprotocol
// protocol.SubprotocolV1 speaks JSON; one that offers none speaks plain
// text. Query parameters: room (plain clients: default
// protocol.DefaultRoom; JSON clients: joined at connect if given), name
// (default a generated guest name) and session (the token that lets another
// connection use a name already held). Problems that can be answered before
// the upgrade get an HTTP status with a plain-text reason.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	id := s.nextID.Add(1)
	a := &admission{s: s, addr: addrKey(s.clientAddr(r))}
	if reason := s.addrs.acquire(a.addr, time.Now()); reason != "" {
		w.Header().Set("Retry-After", "1")
		s.refuse(w, http.StatusTooManyRequests, reason, "too many connections from your address; try again later")
		return
	}
	defer a.Close()
	req, ok := s.checkUpgrade(w, r, a, id)
	if !ok {
		return
	}
	early, ok := a.upgrade(w, r, req.format)
	if !ok {
		return
	}
	c := s.newConn(a, id, req)
	if !a.claim(req) {
		return
	}
	if c.format == formatJSON {
		c.send(s.welcome(c, req.id, req.mentions))
	}
	// Join before registering: a connection counted in Stats is one that
	// receives the room's messages.
	if req.room != "" {
		if _, err := c.joinReplay(req.room, hub.Replay{Last: req.history}); err != nil {
			s.log.Warn("join at connect", "room", req.room, "err", err)
			a.refuse(closeFrame(protocol.CloseInternalError, "the history store failed; reconnect later"))
			return
		}
	}
	if !s.register(c) {
		s.stats.refuse(RefusedShutdown)
		return
	}
	a.admitted = true
	s.stats.accepted.Add(1)
	c.out.uncork()
	s.log.Debug("connection opened", "id", id, "remote", r.RemoteAddr, "room", req.room, "name", c.sess.name, "json", c.format == formatJSON)
	// The reader runs on a fresh goroutine so that net/http's connection
	// goroutine, with its larger stack, ends here.
	c.opened = time.Now().UnixNano()
	go c.readLoop(early, false)
}

// checkUpgrade checks what the upgrade request asks for and reserves a
// connection slot for it, answering the client with an HTTP status when
// either fails.
func (s *Server) checkUpgrade(w http.ResponseWriter, r *http.Request, a *admission, id uint64) (wsRequest, bool) {
	req, rf := s.parseWSRequest(r, id)
	if rf != nil {
		if rf.status == http.StatusUpgradeRequired {
			w.Header().Set("Upgrade", "websocket")
		}
		s.refuse(w, rf.status, rf.reason, rf.msg)
		return req, false
	}
	if err := s.reserve(); err != nil {
		reason := RefusedCapacity
		if errors.Is(err, errShuttingDown) {
			reason = RefusedShutdown
		}
		w.Header().Set("Retry-After", "5")
		s.refuse(w, http.StatusServiceUnavailable, reason, err.Error())
		return req, false
	}
	a.slot = true
	return req, true
}

// upgrade completes the WebSocket handshake and returns the bytes the client
// sent behind its handshake, which the reader reads before the socket.
func (a *admission) upgrade(w http.ResponseWriter, r *http.Request, format hub.Format) ([]byte, bool) {
	up := ws.HTTPUpgrader{Timeout: a.s.cfg.HandshakeTimeout}
	if format == formatJSON {
		up.Protocol = func(p string) bool { return p == protocol.SubprotocolV1 }
	}
	nc, rw, _, err := up.Upgrade(r, w)
	a.nc = nc
	if err != nil {
		// The upgrader has answered the client with a status and reason.
		a.s.log.Debug("websocket handshake failed", "remote", r.RemoteAddr, "err", err)
		return nil, false
	}
	// Frames the client sent right behind its handshake may already sit in
	// net/http's read buffer; they are copied out, so that no
	// per-connection buffer outlives the handshake.
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ := rw.Reader.Peek(n)
		return bytes.Clone(early), true
	}
	return nil, true
}

// newConn builds the connection on a's socket, corked until it is
// admitted, and hands it to a.
func (s *Server) newConn(a *admission, id uint64, req wsRequest) *conn {
	c := &conn{
		srv:    s,
		id:     id,
		addr:   a.addr,
		format: req.format,
	}
	c.out.init(a.nc, c)
	c.setIdentity(req.id)
	a.c = c
	return c
}

// claim gives a's connection its user's session. It fails when another
// connection took the name since parseWSRequest checked it.
func (a *admission) claim(req wsRequest) bool {
	c := a.c
	ctx, cancel := c.storeContext()
	hold, err := a.s.claimName(ctx, req.id, req.token)
	cancel()
	switch {
	case errors.Is(err, errNameTaken):
		a.refuse(closeFrame(protocol.ClosePolicyViolation, err.Error()))
		return false
	case err != nil:
		a.s.log.Warn("claim name at connect", "err", err)
		a.refuse(closeFrame(protocol.CloseInternalError, "the store failed; reconnect later"))
		return false
	}
	sess, ousted, err := a.s.sessions.claim(req.id, req.token, req.reads, c, hold)
	if err != nil {
		a.refuse(closeFrame(protocol.ClosePolicyViolation, err.Error()))
		return false
	}
	c.sess = sess
	for _, g := range ousted {
		// Wait out a request the ousted guest was carrying out, so that
		// nothing it sent under the name comes after the owner's welcome.
		g.handling.Lock()
		g.handling.Unlock() //nolint:staticcheck // SA2001: the empty section is the wait
	}
	return true
}

// welcome is the first frame of a JSON connection.
func (s *Server) welcome(c *conn, id identity, mentions map[string][]uint64) []byte {
	return jsonFrame(protocol.Welcome{
		Type: protocol.TypeWelcome, Protocol: protocol.SubprotocolV1, Name: c.sess.name, Session: c.sess.token,
		Auth: id.kind, Expires: expiresMillis(id.expires),
		Limits: protocol.Limits{MaxMessageBytes: s.cfg.MaxMessageBytes, MaxRooms: s.cfg.MaxRooms, SendRate: max(s.cfg.SendRate, 0), SendBurst: s.cfg.SendBurst,
			SendByteRate: max(s.cfg.SendByteRate, 0), SendByteBurst: s.cfg.SendByteBurst},
		Reads: s.sessions.readsOf(c.sess), UnreadMentions: mentions,
	})
}

func expiresMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return protocol.Millis(t)
}

// refuse answers an upgrade that cannot be accepted with status and a
// plain-text reason, and counts it.
func (s *Server) refuse(w http.ResponseWriter, status int, reason, msg string) {
	s.stats.refuse(reason)
	http.Error(w, msg, status)
}
