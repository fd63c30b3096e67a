package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/time/rate"

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
	if !isWebSocketRequest(r) {
		w.Header().Set("Upgrade", "websocket")
		s.refuse(w, http.StatusUpgradeRequired, RefusedInvalid, "this endpoint speaks WebSocket only; connect with a WebSocket client, e.g. websocat ws://"+r.Host+"/ws")
		return
	}
	format := formatPlain
	if offered := r.Header.Values("Sec-WebSocket-Protocol"); len(offered) > 0 {
		if !headerHasToken(r.Header, "Sec-WebSocket-Protocol", protocol.SubprotocolV1) {
			s.refuse(w, http.StatusBadRequest, RefusedInvalid, fmt.Sprintf("unsupported subprotocol %q: chatd speaks %s, or plain text when no subprotocol is requested", strings.Join(offered, ", "), protocol.SubprotocolV1))
			return
		}
		format = formatJSON
	}
	q := r.URL.Query()
	var room string
	if q.Get("room") != "" || format == formatPlain {
		var err error
		if room, err = protocol.NormalizeRoom(q.Get("room")); err != nil {
			s.refuse(w, http.StatusBadRequest, RefusedInvalid, err.Error())
			return
		}
	}
	id := s.nextID.Add(1)
	name, token := q.Get("name"), q.Get("session")
	if name == "" {
		name = fmt.Sprintf("%s%d", guestPrefix, id)
	} else if err := protocol.ValidateName(name); err != nil {
		s.refuse(w, http.StatusBadRequest, RefusedInvalid, err.Error())
		return
	} else if strings.HasPrefix(strings.ToLower(name), guestPrefix) {
		s.refuse(w, http.StatusBadRequest, RefusedInvalid, fmt.Sprintf("name %q: names starting with %q are given to guests by the server", name, guestPrefix))
		return
	}
	if !s.sessions.available(name, token) {
		s.refuse(w, http.StatusConflict, RefusedNameHeld, fmt.Sprintf("name %q: %v", name, errNameTaken))
		return
	}
	if err := s.reserve(); err != nil {
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
		s.release()
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
		srv:    s,
		nc:     nc,
		raw:    rawConnOf(nc),
		w:      s.writers[id%uint64(len(s.writers))],
		id:     id,
		format: format,
		rooms:  make(map[string]struct{}, 1),
	}
	if s.cfg.SendRate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(s.cfg.SendRate), s.cfg.SendBurst)
	}
	if c.sess, err = s.sessions.claim(name, token, c); err != nil {
		// Another connection took the name since the check above.
		s.release()
		_, _ = nc.Write(protocol.CloseFrame(protocol.ClosePolicyViolation, err.Error()))
		_ = nc.Close()
		return
	}
	if format == formatJSON {
		c.send(protocol.JSONFrame(protocol.Welcome{
			Type: protocol.TypeWelcome, Protocol: protocol.SubprotocolV1, Name: c.sess.name, Session: c.sess.token,
			Limits: protocol.Limits{MaxMessageBytes: s.cfg.MaxMessageBytes, MaxRooms: s.cfg.MaxRooms, SendRate: max(s.cfg.SendRate, 0), SendBurst: s.cfg.SendBurst},
		}))
	}
	// Join before registering: a connection counted in Stats is one that
	// receives the room's messages.
	if room != "" {
		c.join(room)
	}
	if !s.register(c) {
		if room != "" {
			c.leave(room)
		}
		s.sessions.release(c.sess, c)
		c.abort()
		s.stats.refuse(RefusedShutdown)
		return
	}
	s.stats.accepted.Add(1)
	s.log.Debug("connection opened", "id", id, "remote", r.RemoteAddr, "room", room, "name", c.sess.name, "json", format == formatJSON)
	// The reader runs on a fresh goroutine so that net/http's connection
	// goroutine, with its larger stack, ends here.
	go c.readLoop(rd, time.Now())
}

func isWebSocketRequest(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// refuse answers an upgrade that cannot be accepted with status and a
// plain-text reason, and counts it.
func (s *Server) refuse(w http.ResponseWriter, status int, reason, msg string) {
	s.stats.refuse(reason)
	http.Error(w, msg, status)
}

// closeReason describes why a connection ended, for the close log.
func closeReason(c *conn, err error) string {
	switch {
	case c.evicted.Load():
		return "slow consumer"
	case c.peerClosed.Load(), err == nil, errors.Is(err, io.EOF):
		return "closed by client"
	default:
		return err.Error()
	}
}
