package metrics

import "github.com/prometheus/client_golang/prometheus"

// ClusterStats are a cluster node's figures (see cluster/natsbus and
// server.Stats.FilledFromStore).
type ClusterStats struct {
	Connected       bool   // the NATS connection is up
	Nodes           int    // other nodes heard from lately
	RelayedIn       uint64 // messages other nodes announced, received here
	RelayedOut      uint64 // messages stored here, announced to the others
	FilledFromStore uint64 // messages delivered from the store: their notice was lost or late
}

var (
	natsConnectedDesc = prometheus.NewDesc("chatd_cluster_nats_connected",
		"1 while the node's NATS connection is up.", nil, nil)
	nodesDesc = prometheus.NewDesc("chatd_cluster_nodes",
		"Other nodes heard from within the node timeout.", nil, nil)
	relayedDesc = prometheus.NewDesc("chatd_cluster_messages_relayed_total",
		"Room messages announced to the other nodes (out) and received from them (in).", []string{"direction"}, nil)
	filledDesc = prometheus.NewDesc("chatd_cluster_gap_fills_total",
		"Messages delivered from the store because their notice from another node was lost, late or overtaken.", nil, nil)
)

// Cluster returns a collector of a cluster node's figures, read from
// stats at each scrape; pass it to Handler.
func Cluster(stats func() ClusterStats) prometheus.Collector {
	return clusterCollector(stats)
}

type clusterCollector func() ClusterStats

func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{natsConnectedDesc, nodesDesc, relayedDesc, filledDesc} {
		ch <- d
	}
}

func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	st := c()
	connected := 0.0
	if st.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(natsConnectedDesc, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(st.Nodes))
	ch <- prometheus.MustNewConstMetric(relayedDesc, prometheus.CounterValue, float64(st.RelayedIn), "in")
	ch <- prometheus.MustNewConstMetric(relayedDesc, prometheus.CounterValue, float64(st.RelayedOut), "out")
	ch <- prometheus.MustNewConstMetric(filledDesc, prometheus.CounterValue, float64(st.FilledFromStore))
}
