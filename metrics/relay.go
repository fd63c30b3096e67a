package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RelayLatency measures how long room messages take from their commit on
// the node that stored them to their delivery on this one. Pass Observe as
// the cluster transport's OnRelayed and the RelayLatency to Handler. It is
// safe for concurrent use.
type RelayLatency struct {
	h prometheus.Histogram
}

// NewRelayLatency returns an empty relay latency histogram.
func NewRelayLatency() *RelayLatency {
	return &RelayLatency{h: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "chatd_cluster_relay_latency_seconds",
		Help: "Time from a room message's commit on the node that stored it to its delivery on this node, " +
			"by the two nodes' clocks: their difference adds to it (a time below zero counts as zero).",
		// 0.25 ms … 4 s: a relay on one network takes about a millisecond;
		// a notice lost and filled by the periodic catch-up, about a second.
		Buckets: prometheus.ExponentialBuckets(0.00025, 2, 15),
	})}
}

// Observe records one relayed message that took took.
func (r *RelayLatency) Observe(took time.Duration) {
	r.h.Observe(max(took, 0).Seconds())
}

// Describe implements prometheus.Collector.
func (r *RelayLatency) Describe(ch chan<- *prometheus.Desc) { r.h.Describe(ch) }

// Collect implements prometheus.Collector.
func (r *RelayLatency) Collect(ch chan<- prometheus.Metric) { r.h.Collect(ch) }
