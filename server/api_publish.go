package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
)

// defaultPoster is the author of an API message that names none.
const defaultPoster = "api"

type postRequest struct {
	Text        *string `json:"text"`
	From        string  `json:"from"`
	ClientMsgID string  `json:"client_msg_id"`
}

type postReply struct {
	Room      string `json:"room"`
	Seq       uint64 `json:"seq"`
	TS        int64  `json:"ts"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// apiPublish posts a message into a room for a backend (a bot, a
// notification) holding the API key: POST /api/rooms/{room}/messages with
// {"text": ..., "from": ..., "client_msg_id": ...}. It answers once the
// message is stored (with a store) and delivered. The key holder is
// trusted: it may post into private rooms and under any valid name.
func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request) {
	if s.cfg.APIKey == "" {
		writeAPIError(w, apiNotFound, "the publish API is off; start chatd with -api-key")
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.APIKey)) != 1 {
		writeAPIError(w, apiUnauthorized, "send the API key as Authorization: Bearer <key>")
		return
	}
	room, err := protocol.NormalizeRoom(r.PathValue("room"))
	if err != nil {
		writeAPIError(w, apiInvalidRequest, "%v", err)
		return
	}
	var in postRequest
	if !decodeBody(w, r, &in) {
		return
	}
	if in.From == "" {
		in.From = defaultPoster
	}
	switch {
	case in.Text == nil:
		writeAPIError(w, apiInvalidRequest, "the body needs the field \"text\"")
		return
	case len(*in.Text) > s.cfg.MaxMessageBytes || !utf8.ValidString(*in.Text):
		writeAPIError(w, apiInvalidRequest, "text must be valid UTF-8 of at most %d bytes", s.cfg.MaxMessageBytes)
		return
	case protocol.ValidateName(in.From) != nil:
		writeAPIError(w, apiInvalidRequest, "from: %v", protocol.ValidateName(in.From))
		return
	case len(in.ClientMsgID) > protocol.MaxIDLen:
		writeAPIError(w, apiInvalidRequest, "client_msg_id is longer than %d bytes", protocol.MaxIDLen)
		return
	}
	type outcome struct {
		p   hub.Published
		err error
	}
	done := make(chan outcome, 1)
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	ms := s.plainMentions(ctx, room, in.From, *in.Text)
	e := &hub.Event{Kind: hub.KindMessage, Room: room, From: in.From, Text: []byte(*in.Text), ClientMsgID: in.ClientMsgID,
		Mentions: keptKeys(ms), Done: func(p hub.Published, err error) { done <- outcome{p, err} }}
	p, err := s.hub.Post(ctx, e)
	if err == nil && p.Pending {
		select {
		case o := <-done:
			p, err = o.p, o.err
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if errors.Is(err, hub.ErrBacklogged) {
		w.Header().Set("Retry-After", "1")
		writeAPIError(w, apiUnavailable, "the history store is behind; post again with the same client_msg_id in a moment")
		return
	}
	if err != nil {
		s.apiFailed(w, "store the message", err)
		return
	}
	if p.Duplicate {
		writeJSON(w, http.StatusOK, postReply{Room: room, Seq: p.Seq, TS: protocol.Millis(p.Time), Duplicate: true})
		return
	}
	s.countMessage(p)
	if len(ms) > 0 {
		s.notifyMentions(e, p, ms)
	}
	writeJSON(w, http.StatusCreated, postReply{Room: room, Seq: p.Seq, TS: protocol.Millis(p.Time)})
}
