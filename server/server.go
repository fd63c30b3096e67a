package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/web"
)

var (
	closeGoingAway    = closeFrame(protocol.CloseGoingAway, "server shutting down")
	closeSlowConsumer = closeFrame(protocol.CloseTryAgainLater, "slow consumer: outbound queue full; reconnect")
	closeStoreBehind  = closeFrame(protocol.CloseTryAgainLater, "the history store is behind; reconnect later")
	closeTokenExpired = closeFrame(protocol.CloseUnauthorized, "token expired; sign in again")
	closeLoggedOut    = closeFrame(protocol.CloseUnauthorized, "token revoked: logged out")
	closePasswordSet  = closeFrame(protocol.CloseUnauthorized, "token revoked: password changed")
	closeNameClaimed  = closeFrame(protocol.CloseNameClaimed, "this name belongs to a signed-in user, who has connected; reconnect with another name")
)

// Server is a chatd server. Create it with New, serve Handler (or call
// Serve), and end it with Shutdown. Its methods are safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	hub      *hub.Hub
	journals *journal.Set // nil without a store
	writers  []*writer
	poll     *poller // nil: readers never park
	parkGap  time.Duration
	nextID   atomic.Uint64
	nextDM   atomic.Uint64
	stats    counters
	sessions sessions
	commits  commitHealth // for readiness

	addrs     *addrLimiter  // WebSocket connections per client address
	logins    *logins       // login, password and registration attempts
	hashing   chan struct{} // bounds concurrent password hashes
	dummyOnce sync.Once
	dummy     string // see dummyHash

	mux *http.ServeMux

	stop     chan struct{}
	stopOnce sync.Once
	bg       sync.WaitGroup // writers, the pinger and drain goroutines
	readers  sync.WaitGroup // one per registered connection

	// base is the parent of every store call made for a connection;
	// Shutdown cancels it when it stops waiting for the connections to
	// close.
	base       context.Context
	cancelBase context.CancelFunc

	mu       sync.Mutex
	conns    map[*conn]struct{}
	reserved int  // registered connections plus upgrades in progress
	closed   bool // Shutdown has begun
}

// New starts a server's writer and keepalive goroutines; Shutdown stops them.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg: cfg,
		log: cfg.Logger,

		stop:     make(chan struct{}),
		conns:    make(map[*conn]struct{}),
		sessions: sessions{grace: guestGrace, relay: cfg.Relay, names: newClusterNames(cfg)},

		addrs:   newAddrLimiter(cfg.IPConns, cfg.IPConnRate, cfg.IPConnBurst),
		logins:  newLogins(cfg),
		hashing: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	hcfg := hub.Config{Encode: encode, Store: cfg.Store, ReplayLimit: cfg.HistoryLimit, ReplayBytes: cfg.ReplyBytes, MaxBacklog: cfg.StoreBacklog, PresenceInterval: cfg.PresenceInterval}
	if cfg.Store != nil {
		jcfg := journal.Config{Store: cfg.Store, OnCommit: s.commits.observe(cfg.OnCommit)}
		if cfg.Relay != nil {
			sq, ok := cfg.Store.(store.Sequencer)
			if !ok {
				panic("server: Config.Relay needs a Store that numbers messages (store.Sequencer), such as PostgreSQL")
			}
			jcfg.Sequencer, hcfg.Relay = sq, cfg.Relay
		}
		s.journals = journal.NewSet(cfg.StoreShards, jcfg)
		hcfg.Journals = s.journals
	}
	s.hub = hub.New(hcfg)
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.writers = make([]*writer, cfg.Writers)
	hold := new(sharedHold)
	for i := range s.writers {
		s.writers[i] = newWriter(s.stop, hold)
		s.bg.Go(s.writers[i].run)
	}
	s.bg.Go(s.keepalive)
	if s.sessions.names != nil {
		s.forgetOldNames()
		s.bg.Go(s.holdNames)
	}
	if p, err := newPoller(parkInterval(cfg.IdleTimeout), s.stop); err != nil {
		s.log.Warn("idle connections will each hold a goroutine", "err", err)
	} else if p != nil {
		s.poll, s.parkGap = p, parkGap
		s.bg.Go(p.run)
	}
	if cfg.Store != nil && (cfg.RetentionAge > 0 || cfg.RetentionMessages > 0) {
		s.bg.Go(s.retain)
	}
	if cfg.Accounts != nil {
		every := tokenSweepInterval
		s.bg.Go(func() { s.sweepTokens(every) })
	}
	s.mux = s.routes()
	return s
}

// Handler returns the server's HTTP routes: GET /ws (the WebSocket
// endpoint), GET /healthz, GET /readyz, the browser client at GET /, the account API
// under /api/, and whatever was added with Handle.
func (s *Server) Handler() http.Handler { return s.mux }

// Handle adds a route, such as /metrics, to the server's handler. It may be
// called while serving.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.handleWS)
	s.apiRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	// The browser client; more specific routes (/ws, /api/..., /metrics) win.
	mux.Handle("GET /", web.Handler())
	return mux
}

// Serve serves HTTP on ln (with TLS when Config.TLS is set), closing
// connections over the per-address cap (Config.IPTCPConns) as they are
// accepted, until ctx ends, then shuts down gracefully within
// shutdownTimeout: the listener closes, WebSocket clients get 1001, and
// Serve returns once they are gone. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	ln = s.limitAccepts(ln)
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.HandshakeTimeout,
		IdleTimeout:       s.cfg.KeepAliveTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	herr := hs.Shutdown(sctx)
	werr := s.Shutdown(sctx)
	if serveErr == nil {
		serveErr = <-errc
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, herr, werr)
}

// Shutdown refuses new connections, closes every WebSocket connection with
// 1001 after the frames already queued for it, and waits for them to end.
// When ctx ends first it force-closes the rest and returns ctx's error.
// It then stops the server's goroutines. Calling it again is harmless.
func (s *Server) Shutdown(ctx context.Context) error {
	// Once ctx ends, the store calls that readers are waiting on end too,
	// wherever the shutdown is waiting (a reader carrying out a request
	// holds up the close below until the request is done).
	stopCancel := context.AfterFunc(ctx, s.cancelBase)
	defer stopCancel()
	s.mu.Lock()
	s.closed = true
	conns := s.snapshotLocked(nil)
	s.mu.Unlock()
	for _, c := range conns {
		c.handling.Lock()
		c.closeWith(closeGoingAway, false)
		c.handling.Unlock()
	}

	done := make(chan struct{})
	go func() {
		s.readers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		conns = s.snapshotLocked(conns[:0])
		s.mu.Unlock()
		for _, c := range conns {
			c.out.abort()
		}
		<-done
	}
	if s.journals != nil {
		// No reader is left to submit; store what was accepted.
		if jerr := s.journals.Close(ctx); jerr != nil && err == nil {
			err = fmt.Errorf("store pending messages: %w", jerr)
		}
	}
	s.stopOnce.Do(func() {
		if s.poll != nil {
			s.poll.close() // no reader is left to park
		}
		close(s.stop)
	})
	s.cancelBase()
	s.bg.Wait()
	s.hub.Close()
	return err
}

func (s *Server) snapshotLocked(dst []*conn) []*conn {
	for c := range s.conns {
		dst = append(dst, c)
	}
	return dst
}

// pingSlices is how many parts each PingInterval is cut into: a connection
// is pinged in the part its id falls in, so that pings (and the pongs that
// wake the readers) are spread over the interval rather than sent to every
// connection at once, which with 17,000 connections held chat messages up
// for a second.
const pingSlices = 25

// keepalive pings every connection once each PingInterval; the ping frame
// is shared. A client that answers nothing is closed by its reader's idle
// deadline. The sweeps of limiters and sessions run once an interval.
func (s *Server) keepalive() {
	t := time.NewTicker(max(s.cfg.PingInterval/pingSlices, time.Millisecond))
	defer t.Stop()
	var conns []*conn
	for slice := uint64(0); ; slice = (slice + 1) % pingSlices {
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
		s.mu.Lock()
		for c := range s.conns {
			if c.id%pingSlices == slice {
				conns = append(conns, c)
			}
		}
		s.mu.Unlock()
		for i, c := range conns {
			c.send(pingFrame)
			conns[i] = nil
		}
		conns = conns[:0]
		if slice == pingSlices-1 {
			now := time.Now()
			s.addrs.sweep(now)
			s.sessions.sweep(now)
			s.logins.sweep(now)
		}
	}
}
