package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// wsRequest is what a WebSocket upgrade request asks for.
type wsRequest struct {
	format  hub.Format
	room    string   // "" for a JSON client that joins no room at connect
	id      identity // whom the connection speaks for
	token   string   // a guest's session token
	history int      // messages to replay at connect
	reads   map[string]uint64
	// mentions are the user's unread mentions, for its welcome.
	mentions map[string][]uint64
}

// refusal is an upgrade answered with an HTTP status instead.
type refusal struct {
	status int
	reason string // one of the Refused* constants
	msg    string
}

// parseWSRequest checks everything about an upgrade request that can be
// answered with an HTTP status; id names a guest.
func (s *Server) parseWSRequest(r *http.Request, id uint64) (wsRequest, *refusal) {
	invalid := func(format string, args ...any) *refusal {
		return &refusal{http.StatusBadRequest, RefusedInvalid, fmt.Sprintf(format, args...)}
	}
	if !isWebSocketRequest(r) {
		return wsRequest{}, &refusal{http.StatusUpgradeRequired, RefusedInvalid,
			"this endpoint speaks WebSocket only; connect with a WebSocket client, e.g. websocat ws://" + r.Host + "/ws"}
	}
	if rf := s.checkOrigin(r); rf != nil {
		return wsRequest{}, rf
	}
	req := wsRequest{format: formatPlain}
	// A list that offers chatd.v1 among protocols chatd does not speak (a
	// newer client's preferences) gets chatd.v1; a list without it is
	// refused rather than served as plain text the client did not ask for.
	var unknown string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			switch p = strings.TrimSpace(p); {
			case p == protocol.SubprotocolV1:
				req.format = formatJSON
			case strings.HasPrefix(p, tokenSubprotocolPrefix):
			case unknown == "":
				unknown = p
			}
		}
	}
	if unknown != "" && req.format != formatJSON {
		return req, invalid("unsupported subprotocol %q: chatd speaks %s, or plain text when no subprotocol is requested",
			unknown, protocol.SubprotocolV1)
	}
	q := r.URL.Query()
	if q.Get("room") != "" || req.format == formatPlain {
		room, err := protocol.NormalizeRoom(q.Get("room"))
		if err != nil {
			return req, invalid("%v", err)
		}
		req.room = room
	}
	if req.format == formatJSON {
		req.history = s.cfg.JoinHistory
	}
	if h := q.Get("history"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 {
			return req, invalid("history %q: want a number of messages", h)
		}
		req.history = min(n, s.cfg.HistoryLimit)
	}
	if rf := s.identify(r, &req, id); rf != nil {
		return req, rf
	}
	if err := s.sessions.available(req.id, req.token); err != nil {
		return req, &refusal{http.StatusConflict, RefusedNameHeld, fmt.Sprintf("name %q: %v", req.id.name, err)}
	}
	if _, err := s.checkName(r.Context(), req.id, req.token); errors.Is(err, errNameTaken) {
		return req, &refusal{http.StatusConflict, RefusedNameHeld, fmt.Sprintf("name %q: %v", req.id.name, err)}
	} else if err != nil {
		s.log.Warn("check name at connect", "err", err)
		return req, storeDown()
	}
	if req.room != "" {
		ok, err := s.mayEnter(r.Context(), req.id, req.room)
		switch {
		case err != nil:
			s.log.Warn("room access at connect", "room", req.room, "err", err)
			return req, storeDown()
		case !ok:
			return req, &refusal{http.StatusForbidden, RefusedForbidden, forbiddenRoom(req.room).Message}
		}
	}
	reads, err := s.storedReads(r.Context(), req.id)
	if err != nil {
		s.log.Warn("read positions at connect", "err", err)
		return req, storeDown()
	}
	req.reads = reads
	if req.format == formatJSON {
		if req.mentions, err = s.unreadMentions(r.Context(), req.id); err != nil {
			s.log.Warn("unread mentions at connect", "err", err)
			return req, storeDown()
		}
	}
	return req, nil
}

// identify sets whom the connection speaks for: the user its token signs
// in, or a guest with the name it asks for (or a generated one).
func (s *Server) identify(r *http.Request, req *wsRequest, connID uint64) *refusal {
	if tok := bearerOf(r); tok != "" {
		id, err := s.authenticate(r.Context(), tok, time.Now())
		switch {
		case errors.Is(err, errBadToken):
			return &refusal{http.StatusUnauthorized, RefusedUnauthorized, err.Error()}
		case err != nil:
			s.log.Warn("authenticate at connect", "err", err)
			return storeDown()
		}
		req.id = id
		return nil
	}
	if s.cfg.Auth == AuthRequired {
		return &refusal{http.StatusUnauthorized, RefusedUnauthorized,
			"this server admits signed-in users only: present a token (Authorization: Bearer, a chatd.token.<token> subprotocol, or ?token=)"}
	}
	q := r.URL.Query()
	name, token := q.Get("name"), q.Get("session")
	guest := func() { name, token = fmt.Sprintf("%s%s%d", guestPrefix, s.guestTag(), connID), "" }
	switch {
	case name == "":
		guest()
	case protocol.ValidateName(name) != nil:
		return &refusal{http.StatusBadRequest, RefusedInvalid, protocol.ValidateName(name).Error()}
	case isGuestName(name) && !s.sessions.holds(name, token) && !s.heldElsewhere(r.Context(), name, token):
		// A guest keeps its name on another connection only with the
		// name's token; otherwise it is a new guest.
		guest()
	case !isGuestName(name):
		registered, err := s.isRegistered(r.Context(), name)
		switch {
		case err != nil:
			s.log.Warn("look up name at connect", "err", err)
			return storeDown()
		case registered:
			return &refusal{http.StatusConflict, RefusedNameHeld, fmt.Sprintf("name %q: %v", name, errNameTaken)}
		}
	}
	req.id, req.token = identity{kind: protocol.AuthGuest, name: name}, token
	return nil
}

func storeDown() *refusal {
	return &refusal{http.StatusServiceUnavailable, RefusedUnavailable, "the account store failed; try again later"}
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
