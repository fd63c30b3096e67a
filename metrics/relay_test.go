package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatd/chatd/metrics"
)

func TestRelayLatencyIsExposed(t *testing.T) {
	r := metrics.NewRelayLatency()
	for _, d := range []time.Duration{300 * time.Microsecond, 900 * time.Microsecond, 3 * time.Millisecond, 1500 * time.Millisecond,
		-2 * time.Millisecond} { // another node's clock ahead of this one's
		r.Observe(d)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 1 || families[0].GetName() != "chatd_cluster_relay_latency_seconds" {
		t.Fatalf("families %v, want chatd_cluster_relay_latency_seconds alone", families)
	}
	h := families[0].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 5 {
		t.Errorf("count %d, want 5", h.GetSampleCount())
	}
	if want := 0.0003 + 0.0009 + 0.003 + 1.5; h.GetSampleSum() < want-1e-9 || h.GetSampleSum() > want+1e-9 {
		t.Errorf("sum %v, want %v (the negative time counted as zero)", h.GetSampleSum(), want)
	}
	// Cumulative counts at a few bounds: ms-level latencies fall in
	// buckets of their own.
	want := map[float64]uint64{0.00025: 1, 0.0005: 2, 0.001: 3, 0.004: 4, 1.024: 4, 2.048: 5}
	seen := 0
	for _, b := range h.GetBucket() {
		if n, ok := want[b.GetUpperBound()]; ok {
			seen++
			if b.GetCumulativeCount() != n {
				t.Errorf("bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), n)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the bounds %v found in %v", seen, want, h.GetBucket())
	}
}
