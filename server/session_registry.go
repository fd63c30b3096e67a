package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatd/chatd/protocol"
)

// session is one user: a name held while at least one connection uses it,
// and, for a guest, the secret that lets another connection (a second
// device, or a reconnect) use the same name. Signed-in users need no
// secret: their token proves the name.
type session struct {
	name     string // as the user wrote it
	key      string // case-folded: names are unique regardless of case
	token    string
	signedIn bool
	// tokenShown records that a welcome carried token, so that some client
	// can come back for the name; a session of plain clients only has
	// nobody to keep it for. Guarded by sessions.mu.
	tokenShown bool

	conns []*conn           // guarded by sessions.mu
	reads map[string]uint64 // room -> read up to; guarded by sessions.mu
	// idleUntil is how long a guest's name stays reserved for its token
	// after its last connection closed, in Unix ns; zero while connected.
	// (Not a time.Time: 16 bytes less take session from a 128-byte
	// allocation to a 112-byte one, and a grace of minutes needs no
	// monotonic clock.)
	idleUntil int64 // guarded by sessions.mu
	// gen is the generation of this node's hold on the name in a cluster
	// (see clusterNames); zero on a single server. Guarded by sessions.mu.
	gen int64
}

// guestGrace is how long a guest keeps its name (and read positions) after
// its last connection closes, so that a reload, a reconnect or a restart
// of the client with its session token comes back as the same guest.
// Tests shorten it.
var guestGrace = 2 * time.Minute

// gone reports whether s has no connection and its grace has passed: its
// name is free.
func (s *session) gone(now time.Time) bool {
	return len(s.conns) == 0 && now.UnixNano() >= s.idleUntil
}

// liveLocked returns the session holding key now, or nil; r.mu is held.
func (r *sessions) liveLocked(key string, now time.Time) *session {
	if s := r.byUser[key]; s != nil && !s.gone(now) {
		return s
	}
	return nil
}

// sessions is the registry of users present on this server.
type sessions struct {
	grace time.Duration // guestGrace when the server was made
	relay Relay         // Config.Relay: told of every connection of a user
	names *clusterNames // nil on a single server

	mu     sync.Mutex
	byUser map[string]*session
	// freed are the names given up here since holdNames last released
	// them in the store, with the generation of the hold.
	freed map[string]int64
}

// errNameTaken refuses a name to a guest, whether another guest holds it
// or it belongs to a signed-in user: one answer for both, so that a
// handshake does not tell which names have accounts.
var errNameTaken = errors.New("name is taken: a guest holding it passes the session token from its welcome event; its owner signs in")

// guestPrefix starts every generated name and no chosen one, so that a
// generated name is always free.
const guestPrefix = "guest-"

// claim attaches c to the user id names. A name nobody holds is granted
// (to a guest with a new token); a held name to a guest only with its
// token. A signed-in user always gets its name: a guest holding it loses
// it, and the guest's connections, returned in ousted, are closed with
// closeNameClaimed. reads are the user's stored read positions, merged
// into the session. hold is the cluster's grant of the name (see
// Server.claimName), zero on a single server.
func (r *sessions) claim(id identity, token string, reads map[string]uint64, c *conn, hold nameHold) (_ *session, ousted []*conn, _ error) {
	key := id.key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byUser == nil {
		r.byUser = make(map[string]*session)
	}
	s := r.liveLocked(key, time.Now())
	if err := admits(s, id, token); err != nil {
		if hold.gen != 0 {
			s.gen = hold.gen // the store's hold is this node's, for s
		}
		return nil, nil, err
	}
	if s != nil && id.signedIn() && !s.signedIn {
		// The guest's connections keep their session, which release then
		// finds replaced; closing them here, under r.mu, stops them from
		// reading before the name changes hands.
		ousted = slices.Clone(s.conns)
		for _, g := range ousted {
			g.closeWith(closeNameClaimed, false)
		}
		s = nil
	}
	if s == nil {
		token := hold.token
		if token == "" {
			token = rand.Text()
		}
		s = &session{name: id.name, key: key, token: token, signedIn: id.signedIn()}
		r.byUser[key] = s
	}
	if hold.gen != 0 {
		s.gen = hold.gen
	}
	for room, seq := range reads {
		if seq > s.reads[room] {
			if s.reads == nil {
				s.reads = make(map[string]uint64)
			}
			s.reads[room] = seq
		}
	}
	s.conns = append(s.conns, c)
	if r.relay != nil {
		r.relay.FollowUser(key)
	}
	s.idleUntil = 0
	s.tokenShown = s.tokenShown || c.format == formatJSON
	return s, ousted, nil
}

// admits is claim's rule for the session s (nil if the name is free).
func admits(s *session, id identity, token string) error {
	switch {
	case s == nil, id.signedIn():
		return nil
	case s.signedIn || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1:
		return errNameTaken
	}
	return nil
}

// available reports whether claim would grant id's name with token now.
func (r *sessions) available(id identity, token string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return admits(r.liveLocked(id.key(), time.Now()), id, token)
}

// holds reports whether name is held by a guest session whose token is
// token.
func (r *sessions) holds(name, token string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.liveLocked(strings.ToLower(name), time.Now())
	return s != nil && !s.signedIn && token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) == 1
}

// connsOf returns the connections of the user with key.
func (r *sessions) connsOf(key string) []*conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.byUser[key]; s != nil {
		return slices.Clone(s.conns)
	}
	return nil
}

// heldByGuest reports whether a guest holds name now.
func (r *sessions) heldByGuest(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.liveLocked(strings.ToLower(name), time.Now())
	return s != nil && !s.signedIn
}

// release detaches c. The name is free once its last connection is gone,
// except that a guest whose token some client saw keeps it for the grace
// period, unless that last connection said goodbye (done): a client that
// closes with 1000 is finished with the name. Releasing c twice is harmless.
func (r *sessions) release(s *session, c *conn, done bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.Index(s.conns, c)
	if i < 0 {
		return
	}
	s.conns = slices.Delete(s.conns, i, i+1)
	if r.relay != nil {
		r.relay.UnfollowUser(s.key)
	}
	if len(s.conns) > 0 || r.byUser[s.key] != s {
		return
	}
	if s.signedIn || !s.tokenShown || done {
		delete(r.byUser, s.key)
		r.freedLocked(s)
		return
	}
	s.idleUntil = time.Now().Add(r.grace).UnixNano()
}

// sweep forgets the guests whose grace has passed.
func (r *sessions) sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, s := range r.byUser {
		if s.gone(now) {
			delete(r.byUser, key)
			r.freedLocked(s)
		}
	}
}

// deliverDM offers frame to every JSON connection of the user named to and
// to the sender's other JSON connections. It reports how many connections
// of the recipient received it, and whether the recipient exists at all.
func (r *sessions) deliverDM(from *conn, to string, frame []byte) (delivered int, found bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rcpt := r.byUser[strings.ToLower(to)]
	if rcpt == nil || len(rcpt.conns) == 0 {
		return 0, false
	}
	for _, c := range rcpt.conns {
		if c.format == formatJSON && c != from {
			delivered++
		}
	}
	if delivered == 0 && rcpt != from.sess {
		return 0, true // unreachable: nobody, not even the sender's other devices, sees it
	}
	for _, c := range rcpt.conns {
		if c.format == formatJSON && c != from {
			c.send(frame)
		}
	}
	if rcpt != from.sess {
		for _, c := range from.sess.conns {
			if c.format == formatJSON && c != from {
				c.send(frame)
			}
		}
	}
	return delivered, true
}

// markRead moves the user's read position in room forward to seq and tells
// the user's other JSON connections. It reports the position after the call.
func (r *sessions) markRead(s *session, from *conn, room string, seq uint64) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq <= s.reads[room] {
		return s.reads[room]
	}
	if s.reads == nil {
		s.reads = make(map[string]uint64)
	}
	s.reads[room] = seq
	frame := jsonFrame(protocol.Read{Type: protocol.TypeRead, Room: room, Seq: seq})
	for _, c := range s.conns {
		if c != from && c.format == formatJSON {
			c.send(frame)
		}
	}
	return seq
}

// readOf returns the user's read position in room.
func (r *sessions) readOf(s *session, room string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.reads[room]
}

// readsOf returns a copy of the user's read positions.
func (r *sessions) readsOf(s *session) map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(s.reads) == 0 {
		return nil
	}
	return maps.Clone(s.reads)
}

// lookup returns the display name of a present user.
func (r *sessions) lookup(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.byUser[strings.ToLower(name)]
	if s == nil || len(s.conns) == 0 {
		return "", false
	}
	return s.name, true
}

// persistRead stores a signed-in user's read position, so that it outlives
// the user's connections; a guest's lasts as long as its session.
func (c *conn) persistRead(room string, seq uint64) *protocol.Error {
	st, id := c.srv.cfg.Store, c.identity()
	if st == nil || !id.signedIn() {
		return nil
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	if err := st.SetRead(ctx, id.key(), room, seq); err != nil {
		c.srv.log.Warn("store read position", "room", room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
	}
	return nil
}

// storedReads loads a signed-in user's read positions for its session.
func (s *Server) storedReads(ctx context.Context, id identity) (map[string]uint64, error) {
	if s.cfg.Store == nil || !id.signedIn() {
		return nil, nil
	}
	reads, err := s.cfg.Store.ReadPositions(ctx, id.key())
	if err != nil {
		return nil, fmt.Errorf("read positions of %q: %w", id.name, err)
	}
	return reads, nil
}
