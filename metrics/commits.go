package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Commits measures the store's group commits. Pass Observe as the
// server's OnCommit and the Commits to Handler. It is safe for concurrent use.
type Commits struct {
	size     prometheus.Histogram
	latency  prometheus.Histogram
	failures prometheus.Counter
}

// NewCommits returns empty commit metrics.
func NewCommits() *Commits {
	return &Commits{
		size: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatd_store_batch_messages",
			Help:    "Messages per store commit (group commit batch size).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7), // 1 … 4096
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatd_store_commit_seconds",
			Help:    "Time one store commit took.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 11), // 0.1 ms … 5.9 s
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatd_store_commit_failures_total",
			Help: "Store commits that failed; their senders were told to resend.",
		}),
	}
}

// Observe records one commit.
func (c *Commits) Observe(size int, took time.Duration, err error) {
	c.size.Observe(float64(size))
	c.latency.Observe(took.Seconds())
	if err != nil {
		c.failures.Inc()
	}
}

// Describe implements prometheus.Collector.
func (c *Commits) Describe(ch chan<- *prometheus.Desc) {
	c.size.Describe(ch)
	c.latency.Describe(ch)
	c.failures.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Commits) Collect(ch chan<- prometheus.Metric) {
	c.size.Collect(ch)
	c.latency.Collect(ch)
	c.failures.Collect(ch)
}
