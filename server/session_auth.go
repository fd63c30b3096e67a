package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// identity is whom a connection speaks for.
type identity struct {
	kind      string    // protocol.AuthGuest, AuthAccount or AuthJWT
	name      string    // the display name
	tokenHash string    // accounts: the login token's hash, to find it on revocation
	expires   time.Time // signed in: when the token expires; zero for guests
	grants    []string  // JWT: private rooms the token admits to, normalized
}

func (id identity) signedIn() bool { return id.kind != protocol.AuthGuest }

func (id identity) key() string { return strings.ToLower(id.name) }

// tokenSubprotocolPrefix carries a token in Sec-WebSocket-Protocol, the one
// header a browser's WebSocket constructor lets a page set:
// new WebSocket(url, ["chatd.v1", "chatd.token." + token]).
const tokenSubprotocolPrefix = "chatd.token."

// errBadToken is why a token is refused; the message is safe to show.
var errBadToken = errors.New("token is invalid, expired or revoked; sign in again")

// authError refuses a token with a message for the client; it wraps
// errBadToken.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }
func (e *authError) Unwrap() error { return errBadToken }

// bearerOf returns the token a request presents, from the Authorization
// header (CLI tools, servers), a chatd.token.<token> subprotocol (browsers)
// or the token query parameter (anything else; it may end up in proxy
// logs, so the others are preferred).
func bearerOf(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(p), tokenSubprotocolPrefix); ok {
				return tok
			}
		}
	}
	return r.URL.Query().Get("token")
}

// authenticate resolves a token, chatd's own or an external JWT, to the
// identity it signs in. Refused tokens give an error wrapping errBadToken;
// other errors mean the store failed.
func (s *Server) authenticate(ctx context.Context, token string, now time.Time) (identity, error) {
	if len(token) > protocol.MaxTokenLen {
		return identity{}, &authError{"token is too long"}
	}
	if auth.IsLoginToken(token) {
		return s.authenticateLogin(ctx, token, now)
	}
	if s.cfg.JWT == nil {
		return identity{}, &authError{"token is not a chatd login token, and this server accepts no JWTs"}
	}
	claims, err := s.cfg.JWT.Verify(token, now)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return identity{}, &authError{"token expired; get a new one"}
	case err != nil:
		return identity{}, &authError{fmt.Sprintf("JWT refused: %v", err)}
	}
	name := claims.Name
	if name == "" {
		name = claims.Subject
	}
	if err := protocol.ValidateName(name); err != nil || isGuestName(name) {
		return identity{}, &authError{fmt.Sprintf("JWT user %q: its name (claim name, else sub) must be a valid chatd name not starting with %q", name, guestPrefix)}
	}
	id := identity{kind: protocol.AuthJWT, name: name, expires: claims.Expires}
	for _, room := range claims.Rooms {
		if r, err := protocol.NormalizeRoom(room); err == nil {
			id.grants = append(id.grants, r)
		}
	}
	if err := s.rememberJWTUser(ctx, id, now); err != nil {
		return identity{}, err
	}
	return id, nil
}

// rememberJWTUser records a JWT user the first time it signs in, as a user
// without a password, so that its name is never given to a guest or
// registered by someone else, and it can be invited to rooms, even while
// it is not connected.
func (s *Server) rememberJWTUser(ctx context.Context, id identity, now time.Time) error {
	if s.cfg.Accounts == nil {
		return nil
	}
	_, err := s.cfg.Accounts.User(ctx, id.key())
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("look up JWT user %q: %w", id.name, err)
	}
	err = s.cfg.Accounts.CreateUser(ctx, store.User{Key: id.key(), Name: id.name, Created: now})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("record JWT user %q: %w", id.name, err)
	}
	return nil
}

func (s *Server) authenticateLogin(ctx context.Context, token string, now time.Time) (identity, error) {
	if s.cfg.Accounts == nil {
		return identity{}, &authError{"this server keeps no accounts"}
	}
	t, err := s.cfg.Accounts.Token(ctx, auth.HashToken(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return identity{}, &authError{"token is unknown or revoked; log in again"}
	case err != nil:
		return identity{}, fmt.Errorf("look up token: %w", err)
	case !now.Before(t.Expires):
		return identity{}, &authError{"token expired; log in again"}
	}
	u, err := s.cfg.Accounts.User(ctx, t.User)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return identity{}, &authError{"the token's account no longer exists"}
	case err != nil:
		return identity{}, fmt.Errorf("look up user %q: %w", t.User, err)
	}
	return identity{kind: protocol.AuthAccount, name: u.Name, tokenHash: t.Hash, expires: t.Expires}, nil
}

// isGuestName reports whether name has the prefix only generated guest
// names have.
func isGuestName(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), guestPrefix)
}

// isRegistered reports whether name belongs to an account or to a JWT user
// seen before, which a guest may then not use.
func (s *Server) isRegistered(ctx context.Context, name string) (bool, error) {
	if s.cfg.Accounts == nil {
		return false, nil
	}
	_, err := s.cfg.Accounts.User(ctx, strings.ToLower(name))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up user %q: %w", name, err)
	}
	return true, nil
}

// handleAuth handles an auth request: a fresh token for the same user
// extends the connection's life.
func (c *conn) handleAuth(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	cur := c.identity()
	if !cur.signedIn() {
		return protocol.Errorf(protocol.CodeForbidden, "a guest connection cannot sign in; reconnect with the token")
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	id, err := c.srv.authenticate(ctx, r.Token, time.Now())
	switch {
	case errors.Is(err, errBadToken):
		return protocol.Errorf(protocol.CodeUnauthorized, "%v", err)
	case err != nil:
		c.srv.log.Warn("auth request", "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	case id.key() != cur.key():
		return protocol.Errorf(protocol.CodeForbidden, "the token is %s's, not %s's", id.name, cur.name)
	}
	c.setIdentity(id)
	ack.Expires = protocol.Millis(id.expires)
	return nil
}

// signedIdentity is what a connection that speaks for a signed-in user
// holds beyond a guest's name: held behind a pointer, it costs a guest's
// connection 8 bytes rather than 104.
type signedIdentity struct {
	id     identity
	expiry *time.Timer // closes the connection when its token expires
}

// identity returns whom c speaks for now.
func (c *conn) identity() identity {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.signed != nil {
		return c.signed.id
	}
	return identity{kind: protocol.AuthGuest, name: c.guest}
}

// setIdentity records id and (re)arms the close at its token's expiry.
func (c *conn) setIdentity(id identity) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.signed != nil && c.signed.expiry != nil {
		c.signed.expiry.Stop()
	}
	if !id.signedIn() {
		c.guest, c.signed = id.name, nil
		return
	}
	c.guest, c.signed = "", &signedIdentity{id: id}
	if !id.expires.IsZero() {
		c.signed.expiry = time.AfterFunc(time.Until(id.expires), func() {
			c.closeWith(closeTokenExpired, false)
		})
	}
}

// renewToken makes c's identity carry the login token newHash in place of
// oldHash, if it carried oldHash.
func (c *conn) renewToken(oldHash, newHash string) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.signed != nil && c.signed.id.tokenHash == oldHash {
		c.signed.id.tokenHash = newHash
	}
}

// stopExpiry cancels the expiry close of a connection that has ended.
func (c *conn) stopExpiry() {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.signed != nil && c.signed.expiry != nil {
		c.signed.expiry.Stop()
	}
}

// granted reports whether a JWT identity's token admits it to room.
func (id identity) granted(room string) bool {
	return slices.Contains(id.grants, room)
}

// closeConns closes, after what is queued, every connection match selects.
func (s *Server) closeConns(frame []byte, match func(*conn) bool) int {
	s.mu.Lock()
	var hit []*conn
	for c := range s.conns {
		if match(c) {
			hit = append(hit, c)
		}
	}
	s.mu.Unlock()
	for _, c := range hit {
		c.closeWith(frame, false)
	}
	return len(hit)
}
