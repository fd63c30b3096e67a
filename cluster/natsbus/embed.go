package natsbus

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embedReadyTimeout bounds the start of an embedded NATS server.
const embedReadyTimeout = 10 * time.Second

// startEmbedded starts the NATS server of a node: listening for NATS
// clients on listen (a free loopback port when empty; the node itself
// connects in-process),
// for its peers' routes on cluster, and routing to routes.
func startEmbedded(node, listen, cluster string, routes []string) (*server.Server, error) {
	opts := &server.Options{ServerName: "chatd-" + node, NoSigs: true, NoLog: true}
	if listen == "" {
		// The server routes only once it listens for clients, so it
		// listens where nobody else can reach it.
		listen = "127.0.0.1:0"
	}
	host, port, err := hostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", listen, err)
	}
	opts.Host, opts.Port = host, port
	if cluster != "" {
		host, port, err := hostPort(cluster)
		if err != nil {
			return nil, fmt.Errorf("nats cluster address %q: %w", cluster, err)
		}
		opts.Cluster = server.ClusterOpts{Name: "chatd", Host: host, Port: port}
	}
	for _, r := range routes {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("nats route %q: want nats://host:port", r)
		}
		opts.Routes = append(opts.Routes, u)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(embedReadyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("embedded nats server: not ready within %v", embedReadyTimeout)
	}
	return ns, nil
}

// hostPort splits host:port; port 0 asks for any free port, which NATS
// spells -1.
func hostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q", p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}
