package server

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/chatd/chatd/protocol"
)

// Reasons an upgrade is refused, as counted in Stats.Refused.
const (
	RefusedInvalid  = "invalid"   // not a WebSocket request, a bad room, name or subprotocol
	RefusedNameHeld = "name_held" // the name belongs to another connection
	RefusedCapacity = "capacity"  // the connection cap was reached
	RefusedShutdown = "shutdown"  // the server is shutting down

	RefusedUnauthorized = "unauthorized" // no token where one is required, or a bad one
	RefusedForbidden    = "forbidden"    // a private room the user is not a member of
	RefusedOrigin       = "origin"       // a browser page from an origin not allowed
	RefusedIPConns      = "ip_conns"     // too many connections from one address
	RefusedIPRate       = "ip_rate"      // connecting too fast from one address
	RefusedIPTCPConns   = "ip_tcp_conns" // too many TCP connections of any kind from one address, closed at accept
	RefusedUnavailable  = "unavailable"  // the account store failed
)

var refusalReasons = [...]string{RefusedInvalid, RefusedNameHeld, RefusedCapacity, RefusedShutdown,
	RefusedUnauthorized, RefusedForbidden, RefusedOrigin, RefusedIPConns, RefusedIPRate, RefusedUnavailable, RefusedIPTCPConns}

// counters are plain atomics bumped on the paths that already do work
// (a connection, a message, an error), never per delivery; metrics read
// them when scraped.
type counters struct {
	accepted      atomic.Uint64
	refused       [len(refusalReasons)]atomic.Uint64
	messagesIn    atomic.Uint64
	deliveries    atomic.Uint64
	drainWrites   atomic.Uint64 // the writers count their own writes
	slowEvictions atomic.Uint64
	requestErrors [17]atomic.Uint64 // indexed like protocol.ErrorCodes

	// Account API outcomes are rare (people logging in), so a map under a
	// mutex does.
	accountsMu sync.Mutex
	accounts   map[AccountOutcome]uint64
}

// AccountOutcome is one kind of account API answer, as counted in
// Stats.Accounts: Request is register, login or password; Result is ok,
// abandoned (the client hung up before it was answered) or the API error
// code (invalid_credentials, rate_limited, name_taken, ...).
type AccountOutcome struct {
	Request, Result string
}

func (c *counters) account(o AccountOutcome) {
	c.accountsMu.Lock()
	defer c.accountsMu.Unlock()
	if c.accounts == nil {
		c.accounts = make(map[AccountOutcome]uint64)
	}
	c.accounts[o]++
}

func (c *counters) refuse(reason string) {
	for i, r := range refusalReasons {
		if r == reason {
			c.refused[i].Add(1)
			return
		}
	}
}

func (c *counters) requestError(code string) {
	for i, k := range protocol.ErrorCodes {
		if k == code {
			c.requestErrors[i].Add(1)
			return
		}
	}
}

// Stats is a snapshot of a server's counters.
type Stats struct {
	Conns         int               // open WebSocket connections
	Rooms         int               // rooms with at least one member
	Accepted      uint64            // WebSocket connections accepted since start
	Refused       map[string]uint64 // upgrades refused, by reason (Refused* constants)
	MessagesIn    uint64            // messages received from clients and published
	Deliveries    uint64            // messages offered to recipients' queues
	Writes        uint64            // socket writes of queued frames; many frames may share one
	SlowEvictions uint64            // connections closed because their queue overflowed
	RequestErrors map[string]uint64 // JSON requests refused, by protocol error code
	// Accounts counts account API answers (registrations, logins,
	// password changes) by outcome.
	Accounts map[AccountOutcome]uint64
	// FilledFromStore counts, in a cluster, messages delivered from the
	// store because their notice from another node was lost or late.
	FilledFromStore uint64
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	st := Stats{
		Conns:           n,
		Rooms:           s.hub.RoomCount(),
		Accepted:        s.stats.accepted.Load(),
		Refused:         make(map[string]uint64, len(refusalReasons)),
		MessagesIn:      s.stats.messagesIn.Load(),
		FilledFromStore: s.hub.Filled(),
		Deliveries:      s.stats.deliveries.Load(),
		Writes:          s.stats.drainWrites.Load(),
		SlowEvictions:   s.stats.slowEvictions.Load(),
		RequestErrors:   make(map[string]uint64, len(protocol.ErrorCodes)),
	}
	for _, w := range s.writers {
		st.Writes += w.writes.Load()
	}
	for i, r := range refusalReasons {
		st.Refused[r] = s.stats.refused[i].Load()
	}
	for i, code := range protocol.ErrorCodes {
		st.RequestErrors[code] = s.stats.requestErrors[i].Load()
	}
	s.stats.accountsMu.Lock()
	st.Accounts = maps.Clone(s.stats.accounts)
	s.stats.accountsMu.Unlock()
	return st
}
