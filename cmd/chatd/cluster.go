package main

import (
	"errors"
	"strings"

	"github.com/chatd/chatd/cluster/natsbus"
)

// clustered reports whether the flags ask for a cluster.
func (c *config) clustered() bool {
	return c.natsURLs != "" || c.natsListen != "" || c.natsCluster != "" || c.natsRoutes != ""
}

// checkCluster refuses cluster flags that cannot work: every node must
// share one PostgreSQL database, which numbers the rooms' messages; a
// SQLite file or memory belongs to one process.
func (c *config) checkCluster() error {
	if !c.clustered() {
		return nil
	}
	if !isPostgres(c.storeKind) {
		return errors.New("a cluster (-nats, -nats-listen, -nats-cluster, -nats-routes) needs -store postgres://…, " +
			"one PostgreSQL database shared by every node; -store " + storeKindName(c.storeKind) + " belongs to one process")
	}
	if c.natsURLs != "" && (c.natsListen != "" || c.natsCluster != "" || c.natsRoutes != "") {
		return errors.New("-nats connects to an existing NATS deployment; -nats-listen, -nats-cluster and -nats-routes embed one: choose one")
	}
	if c.natsRoutes != "" && c.natsCluster == "" {
		return errors.New("-nats-routes needs -nats-cluster, the address the embedded server routes from")
	}
	return nil
}

// storeKindName names a -store value without a password.
func storeKindName(kind string) string {
	if kind == "" {
		return "memory"
	}
	return redact(kind)
}

// busConfig is the cluster transport's configuration from the flags.
func (c *config) busConfig() natsbus.Config {
	var routes []string
	for r := range strings.SplitSeq(c.natsRoutes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			routes = append(routes, r)
		}
	}
	return natsbus.Config{URLs: c.natsURLs, Listen: c.natsListen, Cluster: c.natsCluster, Routes: routes, NodeID: c.nodeID, NodeTimeout: c.nodeTimeout}
}
