package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/server"
)

// Defaults of the command that server.Config has not: in Config these
// limits are off unless set, while a chatd started without flags has them.
const (
	defaultIPConns     = 500
	defaultIPConnRate  = 20
	defaultIPConnBurst = 100
)

type config struct {
	addr            string
	shutdownTimeout time.Duration
	logFormat       string
	logLevel        string
	pprofAddr       string
	sendRate        float64
	sendByteRate    float64
	requestRate     float64
	joinHistory     int
	storeKind       string
	dataDir         string
	version         bool
	server          server.Config

	authMode       string
	registration   bool
	jwtSecret      string
	jwtKeyFile     string
	jwtIssuer      string
	jwtAudience    string
	allowedOrigins string
	trustedProxies string
	tlsCert        string
	tlsKey         string

	natsURLs    string
	natsListen  string
	natsCluster string
	natsRoutes  string
	nodeID      string
	nodeTimeout time.Duration
}

// parseConfig reads flags, then fills every flag not given on the command
// line from its environment variable: -foo-bar is CHATD_FOO_BAR.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	fs := c.flagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see chatd -h)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fromEnv := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || envErr != nil {
			return
		}
		name := envName(f.Name)
		if v, ok := lookupEnv(name); ok {
			fromEnv[f.Name] = true
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("environment %s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if c.version {
		return c, errVersion
	}
	if err := c.check(fs, fromEnv); err != nil {
		return c, err
	}
	// In server.Config zero means the default rate; on the command line
	// zero reads more naturally as "no limit".
	c.server.JoinHistory = c.joinHistory
	if c.joinHistory == 0 {
		c.server.JoinHistory = -1
	}
	c.server.SendRate = c.sendRate
	c.server.RequestRate = c.requestRate
	if c.requestRate == 0 {
		c.server.RequestRate = -1
	}
	if c.sendRate == 0 {
		c.server.SendRate = -1
	}
	c.server.SendByteRate = c.sendByteRate
	if c.sendByteRate == 0 {
		c.server.SendByteRate = -1
	}
	if c.server.IPConnRate > 0 && c.server.IPConnBurst == 0 {
		c.server.IPConnBurst = defaultIPConnBurst
	}
	for _, n := range []*int{&c.server.LoginsPerAccount, &c.server.LoginsPerIP, &c.server.LoginFailuresPerAccount, &c.server.RoomsPerAccount} {
		if *n == 0 {
			*n = -1
		}
	}
	return c, c.parseSecurity()
}

// flagSet defines chatd's flags on c. Their defaults are server's Default
// constants and those below; the README's configuration table is checked
// against them (TestREADMEListsEveryFlagWithItsDefault).
func (c *config) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8082", "`host:port` to listen on; the WebSocket endpoint is /ws")
	fs.IntVar(&c.server.MaxMessageBytes, "max-message-bytes", server.DefaultMaxMessageBytes, "largest message a client may send; larger ones close the connection with 1009")
	fs.IntVar(&c.server.MaxConns, "max-conns", server.DefaultMaxConns(), "concurrent WebSocket connections, by default 90% of the open-file limit; more are refused with 503")
	fs.IntVar(&c.server.QueueBytes, "queue-bytes", server.DefaultQueueBytes, "bytes that may wait for one slow client before it is disconnected with 1013")
	fs.IntVar(&c.server.ReplyBytes, "reply-bytes", 0, "bytes one reply may queue for the client that asked (a join's replay, a history page, a rooms list, a who page); longer ones stop with more:true and are paged (0: a quarter of -queue-bytes)")
	fs.DurationVar(&c.server.PingInterval, "ping-interval", server.DefaultPingInterval, "how often each client is pinged")
	fs.DurationVar(&c.server.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "close a client that sent nothing, not even a pong, for this long")
	fs.DurationVar(&c.server.WriteTimeout, "write-timeout", server.DefaultWriteTimeout, "close a client whose socket accepts no data for this long")
	fs.DurationVar(&c.server.HandshakeTimeout, "handshake-timeout", server.DefaultHandshakeTimeout, "limit for reading request headers and completing the WebSocket handshake")
	fs.IntVar(&c.server.Writers, "writers", 0, "writer goroutines (0: one per CPU)")
	fs.IntVar(&c.server.MaxRooms, "max-rooms", server.DefaultMaxRooms, "rooms one JSON connection may be in at once")
	fs.IntVar(&c.server.RoomsPerAccount, "rooms-per-account", server.DefaultRoomsPerAccount, "rooms one user may own (create); more get room_quota (0: no limit)")
	fs.Float64Var(&c.sendRate, "send-rate", server.DefaultSendRate, "messages per second one connection may send, sustained (0: no limit)")
	fs.Float64Var(&c.requestRate, "request-rate", server.DefaultRequestRate, "scales every per-connection request rate and burst (joins, history pages, rooms, who and members, create, invite and remove, the cheap rest; see docs/security.md) (0: no limit)")
	fs.IntVar(&c.server.SendBurst, "send-burst", 0, "messages one connection may send in a burst above -send-rate (0: twice -send-rate)")
	fs.Float64Var(&c.sendByteRate, "send-byte-rate", server.DefaultSendByteRate, "bytes of messages per second one connection may send, counted as its recipients receive them (0: no limit)")
	fs.IntVar(&c.server.SendByteBurst, "send-byte-burst", 0, "bytes of messages one connection may send in a burst above -send-byte-rate (0: a quarter of -queue-bytes)")
	fs.StringVar(&c.storeKind, "store", "sqlite", "where room messages are kept: sqlite (a file in -data), a postgres:// URL, or memory, which keeps nothing, not even while running (history requests answer unavailable)")
	fs.StringVar(&c.natsURLs, "nats", "", "run as one node of a cluster, over these comma-separated NATS servers (nats://n1:4222,nats://n2:4222); needs a postgres:// -store shared by every node")
	fs.StringVar(&c.natsListen, "nats-listen", "", "run as one node of a cluster over a NATS server embedded in chatd, listening for NATS clients on this `host:port` (empty: a free loopback port); needs a postgres:// -store")
	fs.StringVar(&c.natsCluster, "nats-cluster", "", "the embedded NATS server's `host:port` for the routes of the other nodes' embedded servers")
	fs.StringVar(&c.natsRoutes, "nats-routes", "", "comma-separated route URLs (nats://peer:6222) of the other nodes' embedded NATS servers")
	fs.StringVar(&c.nodeID, "node-id", "", "this node's name in a cluster, in its logs and its notices (empty: random)")
	fs.DurationVar(&c.nodeTimeout, "node-timeout", natsbus.DefaultNodeTimeout, "in a cluster, how long another node may go unheard (each sends a heartbeat every third of it) before the users present through it are taken for gone")
	fs.StringVar(&c.dataDir, "data", "chatd-data", "directory of the sqlite store, created if missing (relative to the working directory)")
	fs.IntVar(&c.server.StoreShards, "store-shards", 0, "group-commit journals the rooms are spread over, so that a slow commit holds up only its share of rooms "+
		"(0: 1 for sqlite, whose writes share one connection; 4 for postgres, which commits in parallel: keep the pool, 16 connections unless the URL sets pool_max_conns, well above it)")
	fs.DurationVar(&c.server.RetentionAge, "retention-age", 0, "delete stored messages older than this, in the background (0: keep)")
	fs.IntVar(&c.server.RetentionMessages, "retention-messages", 0, "keep at most this many of each room's newest stored messages (0: all)")
	fs.DurationVar(&c.server.PresenceInterval, "presence-interval", server.DefaultPresenceInterval, "how often a room's members may hear of users joining and leaving: the first change after a quiet interval at once, later ones in one diff per interval")
	fs.IntVar(&c.joinHistory, "join-history", server.DefaultJoinHistory, "newest messages a JSON client receives when it joins a room without asking for a number (0: none)")
	fs.IntVar(&c.server.HistoryLimit, "history-limit", server.DefaultHistoryLimit, "most messages one history request or join replay returns")
	fs.StringVar(&c.authMode, "auth", "optional", "who may connect: optional (guests too) or required (signed-in users only, plain clients included)")
	fs.BoolVar(&c.registration, "registration", true, "let anyone register an account with POST /api/register")
	fs.DurationVar(&c.server.TokenTTL, "token-ttl", server.DefaultTokenTTL, "how long a login token is valid; clients refresh it before then")
	fs.StringVar(&c.jwtSecret, "jwt-hmac-secret", "", "accept HS256/384/512 JWTs signed with this secret, at least 32 bytes (prefer the environment variable)")
	fs.StringVar(&c.jwtKeyFile, "jwt-public-key", "", "accept RS256/PS256/EdDSA JWTs signed by the keys in this PEM `file`")
	fs.StringVar(&c.jwtIssuer, "jwt-issuer", "", "when set, JWTs must carry this iss")
	fs.StringVar(&c.jwtAudience, "jwt-audience", "", "when set, JWTs must carry this aud")
	fs.StringVar(&c.server.APIKey, "api-key", "", "enable POST /api/rooms/{room}/messages for callers presenting this key as a bearer token (prefer the environment variable)")
	fs.StringVar(&c.allowedOrigins, "allowed-origins", "", "comma-separated origins (https://example.com) whose pages may open WebSockets besides chatd's own; * allows any")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client")
	fs.IntVar(&c.server.IPConns, "ip-conns", defaultIPConns, "concurrent WebSocket connections from one address (IPv6: one /64); more get 429 (0: no limit)")
	fs.Float64Var(&c.server.IPConnRate, "ip-conn-rate", defaultIPConnRate, "new WebSocket connections per second from one address, sustained (0: no limit)")
	fs.IntVar(&c.server.IPConnBurst, "ip-conn-burst", 0, fmt.Sprintf("new connections one address may open in a burst above -ip-conn-rate (0: %d)", defaultIPConnBurst))
	fs.IntVar(&c.server.IPTCPConns, "ip-tcp-conns", 0, "TCP connections of any kind (WebSocket, HTTP keep-alive, unfinished requests) one address may hold open; more are closed as soon as they are accepted; trusted proxies are exempt (0: -ip-conns plus 100, none when -ip-conns is 0; -1: no limit)")
	fs.DurationVar(&c.server.KeepAliveTimeout, "keepalive-timeout", server.DefaultKeepAliveTimeout, "close an idle HTTP keep-alive connection after this long")
	fs.IntVar(&c.server.LoginsPerAccount, "logins-per-account", server.DefaultLoginsPerAccount, "failed logins per minute to one account from one address (IPv6: one /64) or one known device (0: no limit)")
	fs.IntVar(&c.server.LoginFailuresPerAccount, "login-failures-per-account", server.DefaultLoginFailuresPerAccount, "failed logins per hour to one account from devices it never signed in on, all addresses together; then only known devices may try (0: no limit)")
	fs.IntVar(&c.server.LoginsPerIP, "logins-per-ip", server.DefaultLoginsPerIP, "login and registration attempts per minute from one address (0: no limit)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "serve https:// and wss:// with this certificate `file` (PEM, with -tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "private key `file` of -tls-cert")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT or SIGTERM, how long clients get to close before they are dropped")
	fs.StringVar(&c.pprofAddr, "pprof", "", "serve net/http/pprof on this loopback `host:port` (off when empty)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: chatd [flags]\n\n"+
			"chatd serves real-time chat over WebSocket at ws://ADDR/ws.\n"+
			"Every flag may also be set by an environment variable named CHATD_ and the\n"+
			"flag in upper case with '-' as '_' (-max-conns is CHATD_MAX_CONNS);\n"+
			"a flag on the command line wins over the environment.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

func envName(flagName string) string {
	return "CHATD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
