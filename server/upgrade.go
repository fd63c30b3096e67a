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

	"github.com/chatd/chatd/protocol"
)

// handleWS upgrades GET /ws. Query parameters: room (default
// protocol.DefaultRoom) and name (default a generated guest name). Problems
// that can be answered before the upgrade get an HTTP status with a
// plain-text reason.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	if !isWebSocketRequest(r) {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this endpoint speaks WebSocket only; connect with a WebSocket client, e.g. websocat ws://"+r.Host+"/ws", http.StatusUpgradeRequired)
		return
	}
	q := r.URL.Query()
	room, err := protocol.NormalizeRoom(q.Get("room"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := s.nextID.Add(1)
	name := q.Get("name")
	if name == "" {
		name = fmt.Sprintf("guest-%d", id)
	} else if err := protocol.ValidateName(name); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.reserve(); err != nil {
		s.stats.refused.Add(1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}

	up := ws.HTTPUpgrader{Timeout: s.cfg.HandshakeTimeout}
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
		srv:  s,
		nc:   nc,
		raw:  rawConnOf(nc),
		w:    s.writers[id%uint64(len(s.writers))],
		id:   id,
		room: room,
		name: name,
	}
	// Join before registering: a connection counted in Stats is one that
	// receives the room's messages.
	s.hub.Join(room, c)
	if !s.register(c) {
		s.hub.Leave(room, c)
		_, _ = nc.Write(closeGoingAway)
		_ = nc.Close()
		s.stats.refused.Add(1)
		return
	}
	s.stats.accepted.Add(1)
	s.log.Debug("connection opened", "id", id, "remote", r.RemoteAddr, "room", room, "name", name)
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
