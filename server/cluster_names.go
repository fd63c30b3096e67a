package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// clusterNames is this node's share of the names a cluster gives out: the
// store (store.NameClaims) records which node holds which name, so that a
// name is one user's on every node. The session registry stays the
// authority for this node's own connections.
type clusterNames struct {
	claims store.NameClaims
	node   string
	lease  time.Duration
	// tag is in every guest name this node generates, so that two nodes
	// numbering their connections alike never generate one name.
	tag  string
	gen  atomic.Int64
	kick chan struct{} // a name was freed; capacity 1
}

// newClusterNames returns nil unless cfg makes a cluster node over a
// store that keeps name claims.
func newClusterNames(cfg Config) *clusterNames {
	nc, ok := cfg.Store.(store.NameClaims)
	if cfg.Relay == nil || !ok {
		return nil
	}
	node := cfg.Relay.NodeID()
	sum := sha256.Sum256([]byte(node))
	return &clusterNames{claims: nc, node: node, lease: cfg.NameLease,
		tag: hex.EncodeToString(sum[:4]) + "-", kick: make(chan struct{}, 1)}
}

func hashToken(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// nameHold is a claim the store granted: the guest's token (empty: the
// session keeps or makes its own) and the hold's generation.
type nameHold struct {
	token string
	gen   int64
}

// checkName is claimName without holding anything, for the handshake:
// it answers errNameTaken when another node holds the name for someone
// else. heldFor reports that another node holds it for this token.
func (s *Server) checkName(ctx context.Context, id identity, token string) (heldFor bool, err error) {
	n := s.sessions.names
	if n == nil {
		return false, nil
	}
	got, err := n.claims.ClaimName(ctx, store.NameClaim{Key: id.key(), Node: n.node, SignedIn: id.signedIn(),
		Presented: hashToken(token), DryRun: true})
	switch {
	case errors.Is(err, store.ErrNameHeld):
		return false, errNameTaken
	case err != nil:
		return false, fmt.Errorf("check name %q: %w", id.name, err)
	}
	return got.UsePresented, nil
}

// claimName holds id's name in the store before the session registry
// gives it to a connection. A signed-in user that took the name from
// guests on other nodes has their connections closed there.
func (s *Server) claimName(ctx context.Context, id identity, token string) (nameHold, error) {
	n := s.sessions.names
	if n == nil {
		return nameHold{}, nil
	}
	candidate := s.sessions.tokenFor(id, token)
	gen := n.gen.Add(1)
	got, err := n.claims.ClaimName(ctx, store.NameClaim{Key: id.key(), Node: n.node, SignedIn: id.signedIn(),
		Presented: hashToken(token), Candidate: hashToken(candidate), Gen: gen, Lease: n.lease})
	switch {
	case errors.Is(err, store.ErrNameHeld):
		return nameHold{}, errNameTaken
	case err != nil:
		return nameHold{}, fmt.Errorf("claim name %q: %w", id.name, err)
	}
	if got.Ousted {
		s.tellUser(id.key(), userNotice{Kind: noticeClaimed})
	}
	if got.UsePresented {
		candidate = token
	}
	return nameHold{token: candidate, gen: gen}, nil
}

// tokenFor returns the token a guest claiming id's name with token would
// have if no other node held the name: its session's here, or a new one.
func (r *sessions) tokenFor(id identity, token string) string {
	if id.signedIn() {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.liveLocked(id.key(), time.Now()); s != nil && admits(s, id, token) == nil {
		return s.token
	}
	return rand.Text()
}

// freedLocked records that s no longer holds its name here, for holdNames
// to release in the store; r.mu is held.
func (r *sessions) freedLocked(s *session) {
	if r.names == nil || s.gen == 0 {
		return
	}
	if r.freed == nil {
		r.freed = make(map[string]int64)
	}
	r.freed[s.key] = s.gen
	select {
	case r.names.kick <- struct{}{}:
	default:
	}
}

// oustGuest closes the connections of a guest holding key here, whose
// name a signed-in user took on another node, and forgets the guest.
func (r *sessions) oustGuest(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.byUser[key]
	if s == nil || s.signedIn {
		return 0
	}
	delete(r.byUser, key)
	for _, c := range s.conns {
		c.closeWith(closeNameClaimed, false)
	}
	return len(s.conns)
}

// holdNames renews this node's holds a third of a lease apart, and
// releases freed names as soon as they are freed. On stop it releases
// every hold, as a node that says goodbye.
func (s *Server) holdNames() {
	n := s.sessions.names
	t := time.NewTicker(n.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.base, n.lease/3)
			lost, err := n.claims.RenewNames(ctx, n.node, n.lease)
			if err != nil {
				s.log.Warn("cluster names", "err", err)
			}
			cancel()
			for _, key := range lost {
				if conns := s.sessions.oustGuest(key); conns > 0 {
					s.log.Info("cluster names: another node gave a guest's name away while this node could not renew it; its connections close",
						"name", key, "conns", conns)
				}
			}
		case <-n.kick:
		case <-s.stop:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := n.claims.ForgetNode(ctx, n.node); err != nil {
				s.log.Warn("cluster names", "err", err)
			}
			cancel()
			return
		}
		s.releaseNames()
	}
}

// releaseNames deletes the holds freed since the last call; those it
// could not delete wait for the next.
func (s *Server) releaseNames() {
	r := &s.sessions
	r.mu.Lock()
	freed := r.freed
	r.freed = nil
	r.mu.Unlock()
	if len(freed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.base, r.names.lease/3)
	defer cancel()
	if err := r.names.claims.ReleaseNames(ctx, r.names.node, freed); err != nil {
		s.log.Warn("cluster names", "err", err)
		r.mu.Lock()
		for k, g := range freed {
			if _, again := r.freed[k]; !again {
				if r.freed == nil {
					r.freed = make(map[string]int64)
				}
				r.freed[k] = g
			}
		}
		r.mu.Unlock()
	}
}

// forgetOldNames drops the holds a previous run of this node id left.
func (s *Server) forgetOldNames() {
	n := s.sessions.names
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.claims.ForgetNode(ctx, n.node); err != nil {
		s.log.Warn("cluster names: a previous run's holds stay until their lease passes", "err", err)
	}
}

// guestTag is what this node puts in the guest names it generates.
func (s *Server) guestTag() string {
	if s.sessions.names == nil {
		return ""
	}
	return s.sessions.names.tag
}

// heldElsewhere reports whether another node holds the guest name for
// token: the guest moved here, and keeps its name.
func (s *Server) heldElsewhere(ctx context.Context, name, token string) bool {
	if s.sessions.names == nil || token == "" {
		return false
	}
	held, err := s.checkName(ctx, identity{kind: protocol.AuthGuest, name: name}, token)
	if err != nil && !errors.Is(err, errNameTaken) {
		s.log.Warn("check name at connect", "err", err)
	}
	return err == nil && held
}
