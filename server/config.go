package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/store"
)

// Config tunes a Server. The zero value is ready to use: every zero field
// means the documented default.
type Config struct {
	// MaxMessageBytes limits one incoming message; larger messages close the
	// connection with 1009. Zero means DefaultMaxMessageBytes (64 KiB).
	MaxMessageBytes int
	// MaxConns caps concurrent WebSocket connections; upgrades beyond it are
	// answered 503. Zero means DefaultMaxConns().
	MaxConns int
	// QueueBytes bounds what may wait in one connection's outbound queue,
	// counting each frame's size plus 32 bytes of bookkeeping. A connection
	// that overflows it is closed with 1013. Zero means DefaultQueueBytes
	// (1 MiB).
	QueueBytes int
	// ReplyBytes bounds what one request may have queued for its own
	// client: the frames of a join's replay, a history page, a rooms list.
	// A longer answer stops short with "more", for the client to page on,
	// so that no reply a client asked for can make it a slow consumer.
	// Zero means a quarter of QueueBytes; at most half of it.
	ReplyBytes int
	// PingInterval is how often the server pings each connection. Zero means
	// DefaultPingInterval.
	PingInterval time.Duration
	// IdleTimeout closes a connection from which nothing, not even a pong,
	// arrived for this long. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// WriteTimeout bounds a write to a socket that is not accepting data;
	// the connection is closed when it passes. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// HandshakeTimeout bounds reading the HTTP request headers and writing
	// the handshake response. Zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// Writers is the number of writer goroutines. Zero means GOMAXPROCS.
	Writers int
	// MaxRooms is how many rooms one connection may be in. Zero means DefaultMaxRooms.
	MaxRooms int
	// RoomsPerAccount is how many rooms one user may own (create); a
	// create beyond it gets room_quota. Zero means DefaultRoomsPerAccount;
	// negative means no limit.
	RoomsPerAccount int
	// SendRate is the sustained number of messages per second one connection
	// may send, with bursts of SendBurst. JSON clients over it get a
	// rate_limited error; plain clients are slowed down. Zero means
	// DefaultSendRate, with bursts of twice the rate; negative means no limit,
	// and SendBurst is then 0.
	SendRate  float64
	SendBurst int
	// SendByteRate is the sustained number of bytes per second of messages
	// and direct messages one connection may send, counted as the JSON
	// frames its recipients receive, with bursts of SendByteBurst. A burst
	// is what a reading recipient's queue absorbs; beyond it the sender,
	// not the recipient, pays: JSON clients get rate_limited with
	// retry_after_ms, plain clients are slowed down. A message larger than
	// the burst is sent when the bucket is full. Zero means
	// DefaultSendByteRate, with bursts of a quarter of QueueBytes; negative
	// means no limit.
	SendByteRate  float64
	SendByteBurst int
	// RequestRate scales the per-connection rates and bursts of the other
	// requests (joins, history pages, rooms, who and members, create,
	// invite and remove, and the cheap rest; see docs/security.md). Zero
	// means DefaultRequestRate, the documented rates; negative means no limit.
	RequestRate float64
	// Store, when set, makes room messages durable: a message is
	// acknowledged and delivered once stored, rooms continue their sequence
	// across restarts, and clients can recover and page through history.
	// Nil keeps messages in memory only. The caller opens and closes it.
	Store store.Store
	// OnCommit, if set, is told of every store commit: its size, how long
	// it took and whether it failed (for metrics). With StoreShards above
	// one it is called concurrently.
	OnCommit func(size int, took time.Duration, err error)
	// Relay, when set, makes this server one node of a cluster sharing
	// Store, which must then be a store.Sequencer (PostgreSQL): the store
	// numbers each room's messages, and the relay carries notifications
	// of them between the nodes (see hub.Relay). Its Ready is part of
	// /readyz. Nil means a single server.
	Relay Relay
	// NameLease is how long a cluster node's hold on a name outlives the
	// node's last renewal (a third of it passes between renewals): within
	// it, a node that died without a goodbye frees the names of its users.
	// Zero means DefaultNameLease. Only with a Relay, over a Store that is
	// also a store.NameClaims (PostgreSQL).
	NameLease time.Duration
	// StoreShards is how many group-commit journals, each committing on its
	// own, share the rooms (a room always uses the same one), so that a
	// slow commit holds up only the rooms of its journal. More shards help
	// a store that commits in parallel (PostgreSQL); with one that
	// serializes writes (SQLite) they only make batches smaller. Zero means
	// one, a single journal for every room.
	StoreShards int
	// StoreBacklog is how many messages may wait for one journal's commit
	// before new ones are held back: JSON sends get unavailable (resend
	// with the same client_msg_id), plain clients wait, and the publish API
	// answers 503. It bounds the memory a slow disk can make chatd use.
	// Zero means DefaultStoreBacklog.
	StoreBacklog int
	// RetentionAge and RetentionMessages limit what a store keeps: messages
	// older than RetentionAge, and beyond the newest RetentionMessages of a
	// room, are deleted every RetentionInterval, in the background. Zero
	// means no limit; RetentionInterval zero means DefaultRetentionInterval.
	RetentionAge      time.Duration
	RetentionMessages int
	RetentionInterval time.Duration
	// PresenceInterval is how often a room's members may hear of users
	// joining and leaving it: the first change after a quiet interval goes
	// out at once, later ones in one presence_diff per interval. Zero
	// means DefaultPresenceInterval.
	PresenceInterval time.Duration
	// JoinHistory is how many of a room's newest messages a JSON client
	// receives when it joins without saying (plain clients ask with
	// ?history=). Zero means DefaultJoinHistory; negative means none.
	JoinHistory int
	// HistoryLimit bounds the messages one history request or join replay
	// returns. Zero means DefaultHistoryLimit.
	HistoryLimit int
	// Logger receives connection and error logs. Nil means slog.Default().
	Logger *slog.Logger

	// Accounts, when set, keeps user accounts, their login tokens and
	// private rooms, and enables the account API (/api/register,
	// /api/login, ...). Nil means guests only. The caller opens and closes
	// it.
	Accounts store.Accounts
	// Auth is AuthOptional (the zero value: guests may connect, as well as
	// signed-in users) or AuthRequired (every connection presents a token).
	Auth AuthMode
	// ClosedRegistration refuses /api/register, for deployments whose
	// accounts are made by an operator or come from JWTs.
	ClosedRegistration bool
	// TokenTTL is how long a login token is valid. Zero means DefaultTokenTTL.
	TokenTTL time.Duration
	// PasswordParams tunes password hashing. Zero means auth.DefaultParams.
	PasswordParams auth.Params
	// JWT, when set, accepts tokens minted by another application (see
	// package auth) as well as chatd's own.
	JWT *auth.Verifier
	// APIKey, when set, enables POST /api/rooms/{room}/messages for
	// callers that present it as a bearer token.
	APIKey string
	// AllowedOrigins lists the origins (scheme://host[:port]) whose pages
	// may open WebSockets besides the server's own; "*" allows any. A
	// request without an Origin header (not from a browser) is always
	// allowed.
	AllowedOrigins []string
	// TrustedProxies lists the addresses of reverse proxies whose
	// X-Forwarded-For header names the client. Empty means the header is
	// ignored and the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// IPConns caps concurrent WebSocket connections from one client
	// address (IPv6: one /64); IPConnRate and IPConnBurst bound how fast
	// one address may open them, per second. Zero means no limit.
	IPConns     int
	IPConnRate  float64
	IPConnBurst int
	// IPTCPConns caps the TCP connections one client address (IPv6: one
	// /64) holds open, of any kind: WebSockets, idle HTTP keep-alive
	// connections, requests not yet finished. Serve closes a connection
	// over it as soon as it is accepted. Trusted proxies are not counted.
	// Zero means IPConns plus 100 when IPConns is set, else no limit;
	// negative means no limit.
	IPTCPConns int
	// KeepAliveTimeout is how long Serve keeps an idle HTTP keep-alive
	// connection open. Zero means DefaultKeepAliveTimeout.
	KeepAliveTimeout time.Duration
	// TLS, when set, makes Serve speak TLS (https:// and wss://) on its
	// listener, inside the per-address cap on accepted connections.
	TLS *tls.Config
	// LoginsPerAccount bounds failed logins per minute to one account from
	// one client address (IPv6: one /64), or from one device the account
	// signed in on before. LoginsPerIP bounds every login, password change
	// and registration per minute from one address. LoginFailuresPerAccount
	// bounds failed logins per hour to one account from devices it has not
	// signed in on, from all addresses together; once it is reached only
	// known devices may try. Zero means DefaultLoginsPerAccount,
	// DefaultLoginsPerIP and DefaultLoginFailuresPerAccount; negative means
	// no limit.
	LoginsPerAccount        int
	LoginsPerIP             int
	LoginFailuresPerAccount int
}

// AuthMode says who may connect.
type AuthMode int

const (
	// AuthOptional lets guests connect as well as signed-in users.
	AuthOptional AuthMode = iota
	// AuthRequired refuses connections without a valid token.
	AuthRequired
)

// String returns the mode's flag spelling.
func (m AuthMode) String() string {
	if m == AuthRequired {
		return "required"
	}
	return "optional"
}

// ParseAuthMode parses a flag value: "optional" or "required".
func ParseAuthMode(s string) (AuthMode, error) {
	switch s {
	case "optional", "":
		return AuthOptional, nil
	case "required":
		return AuthRequired, nil
	}
	return 0, fmt.Errorf("auth mode %q: want optional or required", s)
}

const (
	// frameOverhead is what one queued frame costs beyond its bytes: the
	// slice header in the queue. Counting it bounds the queue's length too.
	frameOverhead = 32
	// tcpConnsOverWebSockets is the default room, in the per-address cap
	// on accepted connections, above the WebSocket cap: page loads, API
	// calls and handshakes in progress beside an address's WebSockets.
	tcpConnsOverWebSockets = 100
	// closeGrace is how long to wait for a client to answer a close frame
	// before dropping the TCP connection.
	closeGrace = 3 * time.Second
)

// withDefaults returns c with every field that means "default" replaced by
// its documented default, grouped by what the fields govern.
func (c Config) withDefaults() Config {
	c.connectionDefaults()
	c.rateDefaults()
	c.historyDefaults()
	c.accountDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	positiveOr(&c.NameLease, DefaultNameLease)
	return c
}

// positiveOr sets *v to d unless it is above zero: for settings where zero
// and below mean nothing.
func positiveOr[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// nonzeroOr sets *v to d when it is zero: for settings where below zero
// means "no limit".
func nonzeroOr[T int | float64 | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// zeroMeansDefault sets *v to d when it is zero, and to 0 (off) when it is
// below zero.
func zeroMeansDefault(v *int, d int) {
	switch {
	case *v == 0:
		*v = d
	case *v < 0:
		*v = 0
	}
}

func (c *Config) connectionDefaults() {
	positiveOr(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	positiveOr(&c.MaxConns, DefaultMaxConns())
	positiveOr(&c.QueueBytes, DefaultQueueBytes)
	positiveOr(&c.ReplyBytes, c.QueueBytes/4)
	c.ReplyBytes = min(c.ReplyBytes, c.QueueBytes/2)
	positiveOr(&c.PingInterval, DefaultPingInterval)
	positiveOr(&c.IdleTimeout, DefaultIdleTimeout)
	positiveOr(&c.WriteTimeout, DefaultWriteTimeout)
	positiveOr(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	positiveOr(&c.Writers, runtime.GOMAXPROCS(0))
	positiveOr(&c.MaxRooms, DefaultMaxRooms)
	switch {
	case c.IPTCPConns == 0 && c.IPConns > 0:
		c.IPTCPConns = c.IPConns + tcpConnsOverWebSockets
	case c.IPTCPConns < 0:
		c.IPTCPConns = 0
	}
	positiveOr(&c.KeepAliveTimeout, DefaultKeepAliveTimeout)
	if c.IPConnRate > 0 {
		positiveOr(&c.IPConnBurst, max(int(2*c.IPConnRate), 1))
	}
}

func (c *Config) rateDefaults() {
	nonzeroOr(&c.SendRate, DefaultSendRate)
	nonzeroOr(&c.RequestRate, DefaultRequestRate)
	if c.SendRate < 0 {
		c.SendBurst = 0 // no limit, and the welcome says so: no rate, no burst
	} else {
		positiveOr(&c.SendBurst, max(int(2*c.SendRate), 1))
	}
	nonzeroOr(&c.SendByteRate, DefaultSendByteRate)
	positiveOr(&c.SendByteBurst, c.QueueBytes/4)
}

func (c *Config) historyDefaults() {
	positiveOr(&c.StoreBacklog, DefaultStoreBacklog)
	positiveOr(&c.RetentionInterval, DefaultRetentionInterval)
	positiveOr(&c.PresenceInterval, DefaultPresenceInterval)
	positiveOr(&c.HistoryLimit, DefaultHistoryLimit)
	zeroMeansDefault(&c.JoinHistory, DefaultJoinHistory)
	c.JoinHistory = min(c.JoinHistory, c.HistoryLimit)
}

func (c *Config) accountDefaults() {
	zeroMeansDefault(&c.RoomsPerAccount, DefaultRoomsPerAccount)
	positiveOr(&c.TokenTTL, DefaultTokenTTL)
	if c.PasswordParams == (auth.Params{}) {
		c.PasswordParams = auth.DefaultParams
	}
	nonzeroOr(&c.LoginsPerAccount, DefaultLoginsPerAccount)
	nonzeroOr(&c.LoginFailuresPerAccount, DefaultLoginFailuresPerAccount)
	nonzeroOr(&c.LoginsPerIP, DefaultLoginsPerIP)
}
