package natsbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/store"
)

// DefaultCatchUpInterval is Config.CatchUpInterval's default.
const DefaultCatchUpInterval = time.Second

// catchUpTimeout bounds one CatchUp.
const catchUpTimeout = 5 * time.Second

// Config configures a Bus. Either URLs or Cluster (or Listen) is set.
type Config struct {
	// URLs, comma-separated, are the servers of an existing NATS
	// deployment (nats://n1:4222,nats://n2:4222).
	URLs string
	// Listen, Cluster and Routes start an embedded NATS server instead:
	// Listen is its host:port for NATS clients (a free loopback port when
	// empty; chatd itself connects in-process), Cluster its host:port for
	// its peers' routes, and Routes the peers' route URLs
	// (nats://peer:6222).
	Listen  string
	Cluster string
	Routes  []string
	// NodeID names this process in notices and logs. Empty means random.
	NodeID string
	// CatchUpInterval is how often the rooms with local members are
	// checked against the store for messages whose notice was lost. Zero
	// means DefaultCatchUpInterval.
	CatchUpInterval time.Duration
	// NodeTimeout is how long a node may go unheard (it sends a heartbeat
	// every third of it) before the others forget the users present
	// through it. Zero means DefaultNodeTimeout.
	NodeTimeout time.Duration
	// Logger receives the connection's events. Nil discards them.
	Logger *slog.Logger
	// OnRelayed, when set, is called for each room message another node
	// announced, once this node has delivered it (or found it delivered
	// already, from the store; or holds it for the notice it overtook,
	// which delivers it), with the time since the origin announced it
	// just after its commit. The two times come from two clocks: the
	// nodes' clock difference adds to it, and may make it negative. It is
	// called on a subscription's goroutine and must not block.
	OnRelayed func(took time.Duration)
}

// Sink is what a Bus delivers to: a *hub.Hub.
type Sink interface {
	// Relayed takes a message another node stored.
	Relayed(m store.Message)
	// CatchUp fills from the store what the rooms with local members
	// missed.
	CatchUp(ctx context.Context) error
	// RemotePresence applies another node's presence in a room, LocalPresence
	// is this node's, and NodeGone forgets everyone a node had present
	// (see hub.Hub).
	RemotePresence(room, node string, present map[string]string, gone []string, full bool)
	LocalPresence(room string) map[string]string
	NodeGone(node string)
	// RelayedTyping delivers another node's typing indicator.
	RelayedTyping(room, from string)
	// UserNotice carries out a notice another node sent for the local
	// connections of user key (see ToUser), and returns how many
	// connections took it.
	UserNotice(key string, notice []byte) int
}

// Bus is one node's connection to the cluster. Create it with Open, hand
// it to the hub as its Relay, Attach the hub, and Close it after the hub's
// server has shut down.
type Bus struct {
	node string
	log  *slog.Logger
	ns   *server.Server // nil with an external deployment
	nc   *nats.Conn
	cfg  Config

	sink      atomic.Pointer[Sink]
	reconnect chan struct{} // capacity 1: a reconnect asks for a CatchUp
	stop      chan struct{}
	loop      sync.WaitGroup
	attach    sync.Once
	closeOnce sync.Once

	// dropEvery, when above zero, drops every dropEvery-th Announce (see
	// export_test.go): the tests' stand-in for NATS losing messages.
	dropEvery atomic.Int64
	announced atomic.Int64
	// swapping, when set (export_test.go), publishes the notices of
	// Announce in pairs, the second first: the tests' stand-in for two
	// nodes' notices crossing on the way.
	swapping atomic.Bool
	swapMu   sync.Mutex
	swapped  []byte // the first of a pair, waiting for the second

	noticesIn, noticesOut atomic.Uint64
	// muted, set by the tests (export_test.go), stops the heartbeats, as
	// a node cut off from the others would seem to them.
	muted atomic.Bool

	mu    sync.Mutex
	subs  map[string]*nats.Subscription // by room
	users map[string]*userSub           // by user key
	// lastSeen is when each other node was last heard from.
	lastSeen map[string]time.Time
	lastBeat time.Time // owned by the catch-up loop
	beats    *nats.Subscription
}

// Open starts the embedded server if asked, and connects. A deployment
// that cannot be reached yet is retried in the background: chatd serves
// its own clients meanwhile.
func Open(cfg Config) (*Bus, error) {
	if cfg.NodeID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.NodeID = hex.EncodeToString(b[:])
	}
	if cfg.CatchUpInterval <= 0 {
		cfg.CatchUpInterval = DefaultCatchUpInterval
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = DefaultNodeTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{node: cfg.NodeID, log: cfg.Logger, cfg: cfg, subs: make(map[string]*nats.Subscription), users: make(map[string]*userSub), lastSeen: make(map[string]time.Time),
		reconnect: make(chan struct{}, 1), stop: make(chan struct{})}
	opts := []nats.Option{
		nats.Name("chatd " + cfg.NodeID),
		nats.NoEcho(), // a node's own notices would be dropped anyway
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
			select {
			case b.reconnect <- struct{}{}:
			default:
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			// A slow consumer lost notices: the gap or the next CatchUp
			// fills them.
			b.log.Warn("nats", "subject", subjectOf(sub), "err", err)
		}),
	}
	url := cfg.URLs
	if cfg.URLs == "" {
		if cfg.Cluster == "" && cfg.Listen == "" {
			return nil, errors.New("natsbus: neither NATS URLs nor an embedded server's addresses")
		}
		ns, err := startEmbedded(cfg.NodeID, cfg.Listen, cfg.Cluster, cfg.Routes)
		if err != nil {
			return nil, err
		}
		b.ns = ns
		url = ns.ClientURL()
		opts = append(opts, nats.InProcessServer(ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("natsbus: connect %s: %w", url, err)
	}
	b.nc = nc
	return b, nil
}

func subjectOf(sub *nats.Subscription) string {
	if sub == nil {
		return ""
	}
	return sub.Subject
}

// NodeID is the node's id.
func (b *Bus) NodeID() string { return b.node }

// ClusterAddr is the embedded server's route address (host:port), for its
// peers' routes; empty with an external deployment.
func (b *Bus) ClusterAddr() string {
	if b.ns == nil {
		return ""
	}
	if a := b.ns.ClusterAddr(); a != nil {
		return a.String()
	}
	return ""
}

// ClientURL is the embedded server's URL for NATS clients (empty with an
// external deployment, or when it listens for none).
func (b *Bus) ClientURL() string {
	if b.ns == nil || b.cfg.Listen == "" {
		return ""
	}
	return b.ns.ClientURL()
}

// Attach starts delivering other nodes' notices to s, and the periodic
// CatchUp of s; the first CatchUp runs at once, for the notices that
// arrived before. Only the first call has an effect.
func (b *Bus) Attach(s Sink) {
	b.attach.Do(func() {
		b.sink.Store(&s)
		sub, err := b.nc.Subscribe(nodesSubject, b.receiveHeartbeat)
		if err != nil {
			b.log.Warn("cluster heartbeats", "err", err)
		}
		b.beats = sub
		b.loop.Go(func() { b.catchUpLoop(s) })
	})
}

func (b *Bus) catchUpLoop(s Sink) {
	t := time.NewTicker(min(b.cfg.CatchUpInterval, b.cfg.NodeTimeout/3))
	defer t.Stop()
	var caught time.Time
	catchUp := true
	for {
		if now := time.Now(); catchUp || now.Sub(caught) >= b.cfg.CatchUpInterval {
			caught = now
			ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
			if err := s.CatchUp(ctx); err != nil {
				b.log.Warn("cluster catch-up", "err", err)
			}
			cancel()
		}
		b.beat(s, time.Now())
		catchUp = false
		select {
		case <-b.stop:
			return
		case <-t.C:
		case <-b.reconnect:
			catchUp = true
		}
	}
}

// Announce implements hub.Relay: it publishes m for the nodes that follow
// its room. It does not wait: the connection buffers, also while it
// reconnects, and what it cannot send is lost and filled from the store.
func (b *Bus) Announce(m store.Message) {
	if k := b.dropEvery.Load(); k > 0 && b.announced.Add(1)%k == 0 {
		return
	}
	data, err := encodeNotice(b.node, m, time.Now())
	if err != nil {
		b.log.Error("cluster announce", "room", m.Room, "err", err)
		return
	}
	if b.swapping.Load() {
		b.swapMu.Lock()
		defer b.swapMu.Unlock()
		if b.swapped == nil {
			b.swapped = data
			return
		}
		b.publishNotice(m.Room, data)
		data, b.swapped = b.swapped, nil
	}
	b.publishNotice(m.Room, data)
}

func (b *Bus) publishNotice(room string, data []byte) {
	if err := b.nc.Publish(subject(room), data); err != nil {
		b.log.Warn("cluster announce", "room", room, "err", err)
		return
	}
	b.noticesOut.Add(1)
}

// Follow implements hub.Relay: it subscribes to room's notices. It does
// not wait for the server.
func (b *Bus) Follow(room string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[room]; ok {
		return
	}
	sub, err := b.nc.Subscribe(subject(room), b.receive)
	if err != nil {
		// The CatchUp still delivers the room's messages, late.
		b.log.Warn("cluster follow", "room", room, "err", err)
		return
	}
	b.subs[room] = sub
	// The nodes with members in the room answer with who is there.
	b.publish(notice{Kind: kindHello, Room: room})
}

// Unfollow implements hub.Relay.
func (b *Bus) Unfollow(room string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sub, ok := b.subs[room]
	if !ok {
		return
	}
	delete(b.subs, room)
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.log.Warn("cluster unfollow", "room", room, "err", err)
	}
}

// receive runs on the subscription's goroutine.
func (b *Bus) receive(msg *nats.Msg) {
	n, err := decodeNotice(msg.Data)
	if err != nil {
		b.log.Warn("cluster notice", "subject", msg.Subject, "err", err)
		return
	}
	sp := b.sink.Load()
	if n.Node == b.node || sp == nil {
		return
	}
	s := *sp
	b.seen(n.Node)
	switch n.Kind {
	case kindMessage:
		b.noticesIn.Add(1)
		s.Relayed(n.message())
		if b.cfg.OnRelayed != nil && !n.Committed.IsZero() {
			b.cfg.OnRelayed(time.Since(n.Committed))
		}
	case kindPresence:
		s.RemotePresence(n.Room, n.Node, n.Present, n.Gone, false)
	case kindRoster:
		s.RemotePresence(n.Room, n.Node, n.Present, nil, true)
	case kindTyping:
		s.RelayedTyping(n.Room, n.From)
	case kindHello:
		if present := s.LocalPresence(n.Room); len(present) > 0 {
			b.publish(notice{Kind: kindRoster, Room: n.Room, Present: present})
		}
	default:
		b.log.Warn("cluster notice", "subject", msg.Subject, "kind", n.Kind, "err", "unknown kind")
	}
}

// publish sends a notice on its room's subject.
func (b *Bus) publish(n notice) {
	n.Node = b.node
	data, err := json.Marshal(n)
	if err != nil {
		b.log.Error("cluster notice", "room", n.Room, "err", err)
		return
	}
	if err := b.nc.Publish(subject(n.Room), data); err != nil {
		b.log.Warn("cluster notice", "room", n.Room, "err", err)
	}
}

// AnnounceTyping implements hub.Relay.
func (b *Bus) AnnounceTyping(room, from string) {
	b.publish(notice{Kind: kindTyping, Room: room, From: from})
}

// AnnouncePresence implements hub.Relay.
func (b *Bus) AnnouncePresence(room string, present map[string]string, gone []string) {
	b.publish(notice{Kind: kindPresence, Room: room, Present: present, Gone: gone})
}

// Ready reports whether NATS answers now, for /readyz.
func (b *Bus) Ready(ctx context.Context) error {
	if !b.nc.IsConnected() {
		return fmt.Errorf("nats: %s", strings.ToLower(b.nc.Status().String()))
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// Close stops the CatchUp, closes the connection and shuts the embedded
// server down. Call it once the hub no longer announces (after the
// server's Shutdown). It is idempotent.
func (b *Bus) Close() {
	b.closeOnce.Do(func() {
		close(b.stop)
		b.loop.Wait()
		if b.sink.Load() != nil {
			// The others drop this node's users now rather than after
			// NodeTimeout.
			b.sendHeartbeat(true)
			_ = b.nc.FlushTimeout(time.Second)
		}
		b.nc.Close()
		b.shutdownServer()
	})
}

func (b *Bus) shutdownServer() {
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
	}
}
