package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatd/chatd/bench"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestAgainstChatd runs short fanout scenarios against a real chatd, in
// both protocols, and checks that the counts agree: on a healthy server
// every message reaches every other member exactly once, in order.
func TestAgainstChatd(t *testing.T) {
	srv := servertest.Start(t, server.Config{SendRate: -1, SendByteRate: -1})

	for _, proto := range []string{bench.ProtoPlain, bench.ProtoJSON} {
		for _, rate := range []float64{200, 0} {
			res, err := bench.Run(context.Background(), bench.Config{
				URL:      srv.URL(),
				Scenario: bench.ScenarioFanout,
				Proto:    proto,
				Conns:    40,
				Senders:  4,
				Rate:     rate,
				Window:   16,
				Duration: time.Second,
				Drain:    5 * time.Second,
			}, nil)
			if err != nil {
				t.Fatalf("%s rate %v: %v", proto, rate, err)
			}
			if res.Sent == 0 || res.Delivered != res.Expected || res.Lost != 0 || res.Duplicates != 0 ||
				res.OutOfOrder != 0 || res.Echoes != 0 || res.Errors != 0 {
				t.Fatalf("%s rate %v: %+v", proto, rate, res)
			}
			if proto == bench.ProtoJSON && res.Acks != res.Sent {
				t.Fatalf("json: %d acks for %d sent", res.Acks, res.Sent)
			}
		}
	}
	if st := srv.Stats(); st.SlowEvictions != 0 {
		t.Fatalf("a healthy run evicted %d clients", st.SlowEvictions)
	}
}
