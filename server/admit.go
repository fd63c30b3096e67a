package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// wsRequest is what a WebSocket upgrade request asks for.
type wsRequest struct {
	format  hub.Format
	room    string // "" for a JSON client that joins no room at connect
	name    string
	token   string
	history int // messages to replay at connect
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
	req := wsRequest{format: formatPlain}
	if offered := r.Header.Values("Sec-WebSocket-Protocol"); len(offered) > 0 {
		if !headerHasToken(r.Header, "Sec-WebSocket-Protocol", protocol.SubprotocolV1) {
			return req, invalid("unsupported subprotocol %q: chatd speaks %s, or plain text when no subprotocol is requested",
				strings.Join(offered, ", "), protocol.SubprotocolV1)
		}
		req.format = formatJSON
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
	req.name, req.token = q.Get("name"), q.Get("session")
	switch {
	case req.name == "":
		req.name = fmt.Sprintf("%s%d", guestPrefix, id)
	case protocol.ValidateName(req.name) != nil:
		return req, invalid("%v", protocol.ValidateName(req.name))
	case strings.HasPrefix(strings.ToLower(req.name), guestPrefix) && !s.sessions.holds(req.name, req.token):
		// A guest keeps its name on another connection only with the
		// name's token; otherwise it is a new guest.
		req.name, req.token = fmt.Sprintf("%s%d", guestPrefix, id), ""
	}
	if !s.sessions.available(req.name, req.token) {
		return req, &refusal{http.StatusConflict, RefusedNameHeld, fmt.Sprintf("name %q: %v", req.name, errNameTaken)}
	}
	return req, nil
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
