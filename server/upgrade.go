package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/time/rate"

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
	addr := addrKey(s.clientAddr(r))
	if reason := s.addrs.acquire(addr, time.Now()); reason != "" {
		w.Header().Set("Retry-After", "1")
		s.refuse(w, http.StatusTooManyRequests, reason, "too many connections from your address; try again later")
		return
	}
	req, rf := s.parseWSRequest(r, id)
	if rf != nil {
		s.addrs.release(addr)
		if rf.status == http.StatusUpgradeRequired {
			w.Header().Set("Upgrade", "websocket")
		}
		s.refuse(w, rf.status, rf.reason, rf.msg)
		return
	}
	format, room := req.format, req.room
	if err := s.reserve(); err != nil {
		s.addrs.release(addr)
		reason := RefusedCapacity
		if errors.Is(err, errShuttingDown) {
			reason = RefusedShutdown
		}
		w.Header().Set("Retry-After", "5")
		s.refuse(w, http.StatusServiceUnavailable, reason, err.Error())
		return
	}

	up := ws.HTTPUpgrader{Timeout: s.cfg.HandshakeTimeout}
	if format == formatJSON {
		up.Protocol = func(p string) bool { return p == protocol.SubprotocolV1 }
	}
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		// The upgrader has answered the client with a status and reason.
		s.release(addr)
		if nc != nil {
			_ = nc.Close()
		}
		s.log.Debug("websocket handshake failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	// Frames the client sent right behind its handshake may already sit in
	// net/http's read buffer; read them first, then the socket directly, so
	// that no per-connection buffer outlives the handshake.
	var rd io.Reader = nc
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ := rw.Reader.Peek(n)
		rd = io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc)
	}

	c := &conn{
		srv:     s,
		nc:      nc,
		raw:     rawConnOf(nc),
		w:       s.writers[id%uint64(len(s.writers))],
		id:      id,
		addr:    addr,
		format:  format,
		rooms:   make(map[string]struct{}, 1),
		corked:  true,
		drained: make(chan struct{}, 1),
	}
	if format == formatPlain {
		c.plainRoom = room
	}
	if s.cfg.SendRate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(s.cfg.SendRate), s.cfg.SendBurst)
	}
	if s.cfg.SendByteRate > 0 {
		c.byteLimiter = rate.NewLimiter(rate.Limit(s.cfg.SendByteRate), s.cfg.SendByteBurst)
	}
	c.setIdentity(req.id)
	var ousted []*conn
	if c.sess, ousted, err = s.sessions.claim(req.id, req.token, req.reads, c); err != nil {
		// Another connection took the name since the check above.
		s.release(addr)
		c.stopExpiry()
		_, _ = nc.Write(closeFrame(protocol.ClosePolicyViolation, err.Error()))
		_ = nc.Close()
		return
	}
	for _, g := range ousted {
		// Wait out a request the ousted guest was carrying out, so that
		// nothing it sent under the name comes after the owner's welcome.
		g.handling.Lock()
		g.handling.Unlock() //nolint:staticcheck // SA2001: the empty section is the wait
	}
	if format == formatJSON {
		c.send(jsonFrame(protocol.Welcome{
			Type: protocol.TypeWelcome, Protocol: protocol.SubprotocolV1, Name: c.sess.name, Session: c.sess.token,
			Auth: req.id.kind, Expires: expiresMillis(req.id.expires),
			Limits: protocol.Limits{MaxMessageBytes: s.cfg.MaxMessageBytes, MaxRooms: s.cfg.MaxRooms, SendRate: max(s.cfg.SendRate, 0), SendBurst: s.cfg.SendBurst,
				SendByteRate: max(s.cfg.SendByteRate, 0), SendByteBurst: s.cfg.SendByteBurst},
			Reads: s.sessions.readsOf(c.sess),
		}))
	}
	// Join before registering: a connection counted in Stats is one that
	// receives the room's messages.
	if room != "" {
		if _, err := c.joinReplay(room, hub.Replay{Last: req.history}); err != nil {
			s.log.Warn("join at connect", "room", room, "err", err)
			_, _ = nc.Write(closeFrame(protocol.CloseInternalError, "the history store failed; reconnect later"))
			s.sessions.release(c.sess, c, false)
			c.stopExpiry()
			c.abort()
			s.release(addr)
			return
		}
	}
	if !s.register(c) {
		if room != "" {
			c.leave(room)
		}
		s.sessions.release(c.sess, c, false)
		c.stopExpiry()
		c.abort()
		s.stats.refuse(RefusedShutdown)
		return
	}
	s.stats.accepted.Add(1)
	c.uncork()
	s.log.Debug("connection opened", "id", id, "remote", r.RemoteAddr, "room", room, "name", c.sess.name, "json", format == formatJSON)
	// The reader runs on a fresh goroutine so that net/http's connection
	// goroutine, with its larger stack, ends here.
	go c.readLoop(rd, time.Now())
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
