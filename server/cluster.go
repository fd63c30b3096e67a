package server

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// Relay is a cluster transport (package cluster/natsbus): the hub's Relay
// for rooms, notices for the nodes where a user has connections, and
// whether it can reach the other nodes now.
type Relay interface {
	hub.Relay
	Ready(ctx context.Context) error
	// FollowUser is called for each local connection of user key, and
	// UnfollowUser when it ends, with the session registry's lock held:
	// they must not block. A relay delivers a user's notices while it has
	// followers.
	FollowUser(key string)
	UnfollowUser(key string)
	// ToUser hands notice to the other nodes where user key has
	// connections and returns the first answer (connections that took
	// it); found is false when no other node has one.
	ToUser(ctx context.Context, key string, notice []byte) (delivered int, found bool, err error)
	// TellUser hands notice to those nodes without waiting.
	TellUser(key string, notice []byte)
	// NodeID names this node among the others.
	NodeID() string
}

// Relayed hands the hub a message another node stored (see
// hub.Hub.Relayed); the relay calls it.
func (s *Server) Relayed(m store.Message) { s.hub.Relayed(m) }

// CatchUp has the hub fill from the store what its rooms missed (see
// hub.Hub.CatchUp); the relay calls it periodically and on reconnects.
func (s *Server) CatchUp(ctx context.Context) error { return s.hub.CatchUp(ctx) }

// userNotice is what one node asks of the connections of a user on the
// others.
type userNotice struct {
	Kind noticeKind `json:"kind"`
	// Event (dm, mention, unmention) is the event to deliver to the user's JSON connections.
	Event json.RawMessage `json:"event,omitempty"`
	// Room and Seq (read) are a read position; Room and By (removed), the
	// private room the user was removed from, and by whom.
	Room string `json:"room,omitempty"`
	Seq  uint64 `json:"seq,omitempty"`
	By   string `json:"by,omitempty"`
	// TokenHash (logout) is the token whose connections close.
	TokenHash string `json:"token_hash,omitempty"`
}

type noticeKind string

const (
	noticeDM       noticeKind = "dm"       // a direct message to or from the user
	noticeRead     noticeKind = "read"     // the user's read position moved
	noticeLogout   noticeKind = "logout"   // a login token was revoked
	noticePassword noticeKind = "password" // the password changed: every login token is revoked
	noticeRemoved  noticeKind = "removed"  // the user was removed from a private room
	noticeClaimed  noticeKind = "claimed"  // the name's owner signed in: a guest holding it loses it
	noticeMention  noticeKind = "mention"  // a message mentioned the user
	// noticeUnmention: a change took a mention of the user away.
	noticeUnmention noticeKind = "unmention"
)

// tellUser hands n to the other nodes where user key has connections, if
// this server is a cluster node.
func (s *Server) tellUser(key string, n userNotice) {
	if s.cfg.Relay == nil {
		return
	}
	b, err := json.Marshal(n)
	if err != nil {
		s.log.Error("user notice", "kind", n.Kind, "err", err)
		return
	}
	s.cfg.Relay.TellUser(key, b)
}

// UserNotice carries out, for the local connections of user key, a notice
// another node sent (see Relay.ToUser); the relay calls it. It returns how
// many connections took it.
func (s *Server) UserNotice(key string, notice []byte) int {
	var n userNotice
	if err := json.Unmarshal(notice, &n); err != nil {
		s.log.Warn("user notice", "user", key, "err", err)
		return 0
	}
	switch n.Kind {
	case noticeDM, noticeMention, noticeUnmention:
		return s.sessions.deliverFrame(key, textFrame(n.Event), nil)
	case noticeRead:
		return s.sessions.moveRead(key, n.Room, n.Seq)
	case noticeLogout:
		return s.closeConns(closeLoggedOut, func(c *conn) bool { return c.identity().tokenHash == n.TokenHash })
	case noticePassword:
		return s.closeConns(closePasswordSet, func(c *conn) bool {
			id := c.identity()
			return id.kind == protocol.AuthAccount && id.key() == key
		})
	case noticeRemoved:
		conns := s.sessions.connsOf(key)
		for _, x := range conns {
			if x.identity().kind == protocol.AuthJWT && x.identity().granted(n.Room) {
				continue
			}
			s.forceLeave(x, n.Room, n.By)
		}
		return len(conns)
	case noticeClaimed:
		return s.sessions.oustGuest(key)
	}
	s.log.Warn("user notice", "user", key, "kind", n.Kind, "err", "unknown kind")
	return 0
}

// deliverFrame offers frame to every JSON connection of user key but
// except.
func (r *sessions) deliverFrame(key string, frame []byte, except *conn) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.byUser[strings.ToLower(key)]
	if s == nil {
		return 0
	}
	n := 0
	for _, c := range s.conns {
		if c.format == formatJSON && c != except {
			c.send(frame)
			n++
		}
	}
	return n
}

// moveRead is markRead for a position moved on another node.
func (r *sessions) moveRead(key, room string, seq uint64) int {
	r.mu.Lock()
	s := r.byUser[strings.ToLower(key)]
	r.mu.Unlock()
	if s == nil {
		return 0
	}
	r.markRead(s, nil, room, seq)
	return 1
}

// RemotePresence applies another node's presence in a room (see
// hub.Hub.RemotePresence); the relay calls it.
func (s *Server) RemotePresence(room, node string, present map[string]string, gone []string, full bool) {
	s.hub.RemotePresence(room, node, present, gone, full)
}

// LocalPresence is who is present in room through this node (see
// hub.Hub.LocalPresence).
func (s *Server) LocalPresence(room string) map[string]string { return s.hub.LocalPresence(room) }

// NodeGone forgets the presence of a node that stopped or went silent
// (see hub.Hub.NodeGone).
func (s *Server) NodeGone(node string) { s.hub.NodeGone(node) }

// RelayedTyping delivers another node's typing indicator (see
// hub.Hub.RelayedTyping); the relay calls it.
func (s *Server) RelayedTyping(room, from string) { s.hub.RelayedTyping(room, from) }
