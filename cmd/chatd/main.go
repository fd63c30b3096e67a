// Command chatd is a real-time chat server: WebSocket clients connected to
// /ws receive every text message the other clients in their room send.
//
// Run it with no arguments to serve ws://127.0.0.1:8082/ws; chatd -h lists
// the flags, each of which may also be set through an environment variable.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/metrics"
	"github.com/chatd/chatd/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if errors.Is(err, errVersion) {
		fmt.Println(version())
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatd:", err)
		os.Exit(1)
	}
}

// run parses the configuration, listens, and serves until ctx ends.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	cfg, err := parseConfig(args, lookupEnv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg.logFormat, cfg.logLevel, stderr)
	if err != nil {
		return err
	}
	cfg.server.Logger = logger

	if cfg.pprofAddr != "" {
		stopPprof, err := servePprof(cfg.pprofAddr, logger)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	// The address is checked before the store is opened, so that a typo
	// or a port in use creates no data directory.
	ln, scheme, err := cfg.listen()
	if err != nil {
		return err
	}
	defer ln.Close()

	var bus *natsbus.Bus
	st, err := openStore(ctx, cfg.storeKind, cfg.dataDir)
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
		cfg.server.Store = st
		if cfg.server.StoreShards <= 0 {
			cfg.server.StoreShards = defaultStoreShards(cfg.storeKind)
		}
		logger.Info("storing messages", "store", storeName(cfg.storeKind, cfg.dataDir), "shards", cfg.server.StoreShards)
	}

	relayLatency := metrics.NewRelayLatency()
	if cfg.clustered() {
		bcfg := cfg.busConfig()
		bcfg.Logger = logger
		bcfg.OnRelayed = relayLatency.Observe
		bus, err = natsbus.Open(bcfg)
		if err != nil {
			return err
		}
		// Closed after Serve returns: the server no longer announces.
		defer bus.Close()
		logger = logger.With("node", bus.NodeID())
		cfg.server.Logger = logger
		cfg.server.Relay = bus
		logger.Info("cluster node", "nats", cmp.Or(cfg.natsURLs, "embedded"), "nats_cluster", cfg.natsCluster, "nats_routes", cfg.natsRoutes)
	}

	cfg.server.Accounts = accountsOf(cfg.server.Store)
	commits := metrics.NewCommits()
	cfg.server.OnCommit = commits.Observe
	srv := server.New(cfg.server)
	extra := []prometheus.Collector{commits}
	if bus != nil {
		extra = append(extra, relayLatency, metrics.Cluster(func() metrics.ClusterStats {
			b := bus.Stats()
			return metrics.ClusterStats{Connected: b.Connected, Nodes: b.Nodes, RelayedIn: b.NoticesIn,
				RelayedOut: b.NoticesOut, FilledFromStore: srv.Stats().FilledFromStore}
		}))
		bus.Attach(srv)
	}
	srv.Handle("GET /metrics", metrics.Handler(srv, extra...))
	logger.Info("chatd listening", "addr", ln.Addr().String(), "websocket", scheme+"://"+ln.Addr().String()+"/ws",
		"browser", strings.Replace(scheme, "ws", "http", 1)+"://"+ln.Addr().String()+"/", "auth", cfg.server.Auth)
	if err := srv.Serve(ctx, ln, cfg.shutdownTimeout); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("chatd stopped")
	return nil
}
