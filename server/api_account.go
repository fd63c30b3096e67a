package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// The account API: small JSON over HTTP, for the browser client, the
// terminal client and anything else. docs/protocol.md documents it.
// Every error is {"error":{"code":...,"message":...}} with the status
// apiStatus gives its code.

// API error codes.
const (
	apiInvalidRequest     = "invalid_request"
	apiInvalidCredentials = "invalid_credentials" //nolint:gosec // an error code, not a credential
	apiUnauthorized       = "unauthorized"
	apiNameTaken          = "name_taken"
	apiRegistrationClosed = "registration_closed"
	apiForbidden          = "forbidden"
	apiRateLimited        = "rate_limited"
	apiNotFound           = "not_found"
	apiUnavailable        = "unavailable"
)

// apiStatus maps an API error code to its HTTP status, in one place.
var apiStatus = map[string]int{
	apiInvalidRequest:     http.StatusBadRequest,
	apiInvalidCredentials: http.StatusUnauthorized,
	apiUnauthorized:       http.StatusUnauthorized,
	apiNameTaken:          http.StatusConflict,
	apiRegistrationClosed: http.StatusForbidden,
	apiForbidden:          http.StatusForbidden,
	apiRateLimited:        http.StatusTooManyRequests,
	apiNotFound:           http.StatusNotFound,
	apiUnavailable:        http.StatusServiceUnavailable,
}

// maxAPIBody bounds a request body: names, passwords and a message.
const maxAPIBody = 128 << 10

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// credentials is the body of register and login.
type credentials struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	// Device is the device token of an earlier login, which keeps this
	// device out of the account's lockout (see logins).
	Device string `json:"device,omitempty"`
}

// tokenReply is the reply of register, login, refresh and password.
type tokenReply struct {
	Name    string `json:"name"`
	Token   string `json:"token"`
	Expires int64  `json:"expires"` // epoch milliseconds
	// Device identifies the device to its account's login limits; register
	// and login give one.
	Device string `json:"device,omitempty"`
}

func (s *Server) apiRoutes(mux *http.ServeMux) {
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /api/config":                 s.apiConfig,
		"POST /api/register":              s.counted("register", s.apiRegister),
		"POST /api/login":                 s.counted("login", s.apiLogin),
		"POST /api/logout":                s.apiLogout,
		"POST /api/refresh":               s.apiRefresh,
		"POST /api/password":              s.counted("password", s.apiPassword),
		"GET /api/me":                     s.apiMe,
		"POST /api/rooms/{room}/messages": s.apiPublish,
	} {
		mux.Handle(pattern, s.sameOrigin(s.bounded(h)))
	}
}

// bounded gives an API request HandshakeTimeout to send its body: the
// server sets no read timeout of its own (it would cut WebSockets off), so
// without one a client trickling a body would hold a goroutine forever.
func (s *Server) bounded(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
		h(w, r)
	}
}

// sameOrigin refuses API requests from pages of other origins, as the
// WebSocket upgrade does. A page can send a cross-site POST without asking
// (a "simple" request with a text/plain body), and would otherwise make
// its visitors register accounts or spend their address's login attempts.
func (s *Server) sameOrigin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rf := s.checkOrigin(r); rf != nil {
			s.stats.refuse(rf.reason)
			writeAPIError(w, apiForbidden, "%s", rf.msg)
			return
		}
		h(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// outcomeWriter remembers how a counted request was answered: the API
// error code, or a success status.
type outcomeWriter struct {
	http.ResponseWriter
	code   string
	status int
}

func (w *outcomeWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// resultAbandoned counts a request answered with nothing because its
// client went away first.
const resultAbandoned = "abandoned"

// counted counts the outcomes of an account request for Stats.Accounts.
func (s *Server) counted(request string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ow := &outcomeWriter{ResponseWriter: w}
		h(ow, r)
		result := ow.code
		switch {
		case ow.status >= 200 && ow.status < 300:
			result = "ok"
		case result == "" || result == apiUnavailable && r.Context().Err() != nil:
			// Nothing was answered, or a store call was cut short, because
			// the client hung up: that is no login, and no failure of ours.
			result = resultAbandoned
		}
		s.stats.account(AccountOutcome{Request: request, Result: result})
	}
}

func writeAPIError(w http.ResponseWriter, code, format string, args ...any) {
	if ow, ok := w.(*outcomeWriter); ok {
		ow.code = code
	}
	var e apiError
	e.Error.Code, e.Error.Message = code, fmt.Sprintf(format, args...)
	if code == apiUnauthorized || code == apiInvalidCredentials {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chatd"`)
	}
	writeJSON(w, apiStatus[code], e)
}

// decodeBody reads a JSON request body into v, answering the client when
// it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err := dec.Decode(v); err != nil {
		writeAPIError(w, apiInvalidRequest, "the body must be one JSON object: %v", err)
		return false
	}
	return true
}

func (s *Server) apiConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"auth":         s.cfg.Auth.String(),
		"accounts":     s.cfg.Accounts != nil,
		"registration": s.cfg.Accounts != nil && !s.cfg.ClosedRegistration,
		"history":      s.cfg.Store != nil,
	})
}

// accountsOrRefuse answers 404 on a server that keeps no accounts.
func (s *Server) accountsOrRefuse(w http.ResponseWriter) bool {
	if s.cfg.Accounts == nil {
		writeAPIError(w, apiNotFound, "this server keeps no accounts")
		return false
	}
	return true
}

func (s *Server) apiRegister(w http.ResponseWriter, r *http.Request) {
	var in credentials
	switch {
	case !s.accountsOrRefuse(w):
		return
	case s.cfg.ClosedRegistration:
		writeAPIError(w, apiRegistrationClosed, "this server does not take registrations")
		return
	case !throttle(w, throttleCheck{l: s.logins.byAddr, key: addrKey(s.clientAddr(r)).String()}):
		return
	case !decodeBody(w, r, &in):
		return
	}
	if err := protocol.ValidateName(in.Name); err != nil {
		writeAPIError(w, apiInvalidRequest, "%v", err)
		return
	}
	if isGuestName(in.Name) {
		writeAPIError(w, apiInvalidRequest, "names starting with %q are for guests", guestPrefix)
		return
	}
	if err := auth.ValidatePassword(in.Password); err != nil {
		writeAPIError(w, apiInvalidRequest, "%v", err)
		return
	}
	if s.sessions.heldByGuest(in.Name) {
		writeAPIError(w, apiNameTaken, "name %q is in use by a guest right now", in.Name)
		return
	}
	if _, err := s.checkName(r.Context(), identity{kind: protocol.AuthGuest, name: in.Name}, ""); errors.Is(err, errNameTaken) {
		writeAPIError(w, apiNameTaken, "name %q is in use by a guest right now", in.Name)
		return
	} else if err != nil {
		s.apiFailed(w, "look up the name", err)
		return
	}
	if err := s.dropInvitationsOfNobody(r.Context(), strings.ToLower(in.Name)); err != nil {
		s.apiFailed(w, "look up the name's rooms", err)
		return
	}
	hash, err := s.hashPassword(r.Context(), in.Password)
	if err != nil {
		s.apiFailed(w, "hash password", err)
		return
	}
	err = s.cfg.Accounts.CreateUser(r.Context(), store.User{Key: strings.ToLower(in.Name), Name: in.Name, PasswordHash: hash, Created: time.Now()})
	switch {
	case errors.Is(err, store.ErrExists):
		writeAPIError(w, apiNameTaken, "name %q is taken", in.Name)
		return
	case err != nil:
		s.apiFailed(w, "create user", err)
		return
	}
	s.issueToken(r.Context(), w, http.StatusCreated, in.Name, s.logins.newDevice(strings.ToLower(in.Name)))
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !s.accountsOrRefuse(w) || !decodeBody(w, r, &in) {
		return
	}
	key := strings.ToLower(in.Name)
	guess, ok := s.logins.start(w, key, addrKey(s.clientAddr(r)), in.Device)
	if !ok {
		return
	}
	u, err := s.cfg.Accounts.User(r.Context(), key)
	found := err == nil && u.PasswordHash != "" // a JWT user has no password
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.apiFailed(w, "look up user", err)
		return
	}
	if !found {
		// Spend the same time as for a wrong password, so that the reply's
		// timing does not tell which names have accounts.
		u.PasswordHash = s.dummyHash()
	}
	ok, err = s.checkPassword(r.Context(), u.PasswordHash, in.Password)
	if err != nil {
		s.apiFailed(w, "check password", err)
		return
	}
	if !ok || !found {
		writeAPIError(w, apiInvalidCredentials, "wrong name or password")
		return
	}
	guess.giveBack(time.Now()) // the owner, not a guess
	device := in.Device
	if _, known := s.logins.knownDevice(key, device); !known {
		device = s.logins.newDevice(key)
	}
	s.issueToken(r.Context(), w, http.StatusOK, u.Name, device)
}

// apiLogout revokes the token presented, and closes the connections it
// opened.
func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	id, ok := s.apiIdentity(w, r)
	if !ok {
		return
	}
	if id.kind != protocol.AuthAccount {
		writeAPIError(w, apiInvalidRequest, "only chatd login tokens can be logged out; a JWT expires on its own")
		return
	}
	if err := s.cfg.Accounts.DeleteToken(r.Context(), id.tokenHash); err != nil {
		s.apiFailed(w, "delete token", err)
		return
	}
	s.closeConns(closeLoggedOut, func(c *conn) bool { return c.identity().tokenHash == id.tokenHash })
	s.tellUser(id.key(), userNotice{Kind: noticeLogout, TokenHash: id.tokenHash})
	w.WriteHeader(http.StatusNoContent)
}

// apiRefresh swaps the token presented for a new one. Connections opened
// with the old token stay open until it would have expired (or until they
// present the new one in an auth request); logging out the new token
// closes them too.
func (s *Server) apiRefresh(w http.ResponseWriter, r *http.Request) {
	id, ok := s.apiIdentity(w, r)
	if !ok {
		return
	}
	if id.kind != protocol.AuthAccount {
		writeAPIError(w, apiInvalidRequest, "only chatd login tokens can be refreshed; ask the JWT's issuer for a new one")
		return
	}
	reply, err := s.newToken(r.Context(), id.name)
	if err != nil {
		s.apiFailed(w, "create token", err)
		return
	}
	if err := s.cfg.Accounts.DeleteToken(r.Context(), id.tokenHash); err != nil {
		s.apiFailed(w, "delete token", err)
		return
	}
	newHash := auth.HashToken(reply.Token)
	s.mu.Lock()
	for c := range s.conns {
		c.renewToken(id.tokenHash, newHash)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, reply)
}

type passwordChange struct {
	Password    string `json:"password"`
	NewPassword string `json:"new_password"`
}

// apiPassword changes the password, revoking every token of the account
// and closing the connections they opened; the reply carries a new token.
func (s *Server) apiPassword(w http.ResponseWriter, r *http.Request) {
	id, ok := s.apiIdentity(w, r)
	if !ok {
		return
	}
	var in passwordChange
	switch {
	case id.kind != protocol.AuthAccount:
		writeAPIError(w, apiInvalidRequest, "only chatd accounts have passwords")
		return
	case !decodeBody(w, r, &in):
		return
	case !throttle(w, throttleCheck{l: s.logins.byAddr, key: addrKey(s.clientAddr(r)).String()},
		throttleCheck{l: s.logins.byPair, key: id.key() + "\x00" + addrKey(s.clientAddr(r)).String()}):
		return
	}
	if err := auth.ValidatePassword(in.NewPassword); err != nil {
		writeAPIError(w, apiInvalidRequest, "new_password: %v", err)
		return
	}
	u, err := s.cfg.Accounts.User(r.Context(), id.key())
	if err != nil {
		s.apiFailed(w, "look up user", err)
		return
	}
	if ok, err := s.checkPassword(r.Context(), u.PasswordHash, in.Password); err != nil || !ok {
		if err != nil {
			s.apiFailed(w, "check password", err)
			return
		}
		writeAPIError(w, apiInvalidCredentials, "wrong password")
		return
	}
	hash, err := s.hashPassword(r.Context(), in.NewPassword)
	if err == nil {
		err = s.cfg.Accounts.SetPassword(r.Context(), id.key(), hash)
	}
	if err != nil {
		s.apiFailed(w, "set password", err)
		return
	}
	s.closeConns(closePasswordSet, func(c *conn) bool {
		ci := c.identity()
		return ci.kind == protocol.AuthAccount && ci.key() == id.key()
	})
	s.tellUser(id.key(), userNotice{Kind: noticePassword})
	s.issueToken(r.Context(), w, http.StatusOK, u.Name, "")
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	id, ok := s.apiIdentity(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": id.name, "auth": id.kind, "expires": expiresMillis(id.expires)})
}

// apiIdentity authenticates the bearer token of an API request.
func (s *Server) apiIdentity(w http.ResponseWriter, r *http.Request) (identity, bool) {
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, t, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(t)
		}
	}
	if tok == "" {
		writeAPIError(w, apiUnauthorized, "send the token as Authorization: Bearer <token>")
		return identity{}, false
	}
	id, err := s.authenticate(r.Context(), tok, time.Now())
	switch {
	case errors.Is(err, errBadToken):
		writeAPIError(w, apiUnauthorized, "%v", err)
		return identity{}, false
	case err != nil:
		s.apiFailed(w, "authenticate", err)
		return identity{}, false
	}
	return id, true
}

// issueToken answers with a new login token for the user named name, and
// the device token the client should present when it next logs in.
func (s *Server) issueToken(ctx context.Context, w http.ResponseWriter, status int, name, device string) {
	reply, err := s.newToken(ctx, name)
	if err != nil {
		s.apiFailed(w, "create token", err)
		return
	}
	reply.Device = device
	writeJSON(w, status, reply)
}

func (s *Server) newToken(ctx context.Context, name string) (tokenReply, error) {
	secret, hash := auth.NewToken()
	now := time.Now()
	t := store.Token{Hash: hash, User: strings.ToLower(name), Created: now, Expires: now.Add(s.cfg.TokenTTL)}
	if err := s.cfg.Accounts.CreateToken(ctx, t); err != nil {
		return tokenReply{}, err
	}
	return tokenReply{Name: name, Token: secret, Expires: protocol.Millis(t.Expires)}, nil
}

func (s *Server) apiFailed(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	s.log.Warn("account API", "op", what, "err", err)
	writeAPIError(w, apiUnavailable, "the server could not %s; try again", what)
}

// hashPassword hashes with at most GOMAXPROCS hashes at a time: each
// takes PasswordParams.Memory, and unbounded concurrency would let a burst
// of registrations exhaust memory.
func (s *Server) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return auth.HashPassword(password, s.cfg.PasswordParams)
}

func (s *Server) checkPassword(ctx context.Context, encoded, password string) (bool, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashing }()
	return auth.CheckPassword(encoded, password)
}

func (s *Server) acquireHashing(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dummyHash is a hash of no one's password with the server's parameters,
// checked against when a login names an unknown user.
func (s *Server) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := auth.HashPassword("no account has this password", s.cfg.PasswordParams)
		if err != nil {
			panic(fmt.Sprintf("hash a constant password: %v", err))
		}
		s.dummy = h
	})
	return s.dummy
}
