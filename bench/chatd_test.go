package bench_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/chatd/chatd/bench"
	"github.com/chatd/chatd/server"
)

// TestAgainstChatd runs short fanout scenarios against a real chatd, in
// both protocols, and checks that the counts agree: on a healthy server
// every message reaches every other member exactly once, in order.
func TestAgainstChatd(t *testing.T) {
	srv := server.New(server.Config{Logger: slog.New(slog.DiscardHandler), SendRate: -1})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	for _, proto := range []string{bench.ProtoPlain, bench.ProtoJSON} {
		for _, rate := range []float64{200, 0} {
			res, err := bench.Run(context.Background(), bench.Config{
				URL:      "ws://" + ln.Addr().String() + "/ws",
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
