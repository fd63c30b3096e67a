package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatd/chatd/metrics"
)

func TestClusterFiguresAreExposed(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.Cluster(func() metrics.ClusterStats {
		return metrics.ClusterStats{Connected: true, Nodes: 2, RelayedIn: 7, RelayedOut: 5, FilledFromStore: 3}
	}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[name] = m.GetGauge().GetValue()
			}
		}
	}
	want := map[string]float64{
		"chatd_cluster_nats_connected":                        1,
		"chatd_cluster_nodes":                                 2,
		"chatd_cluster_messages_relayed_total{direction=in}":  7,
		"chatd_cluster_messages_relayed_total{direction=out}": 5,
		"chatd_cluster_gap_fills_total":                       3,
	}
	if len(got) != len(want) {
		t.Fatalf("metrics %v, want %v", got, want)
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
}
