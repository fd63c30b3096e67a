package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatd/chatd/bench"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestReactionStormAgainstChatd runs a fanout with two reaction storms
// against a real chatd on a SQLite file: every connection's reaction is
// acknowledged, every connection learns of every reaction, the messages
// sent meanwhile all arrive, and the latency of those sent during a storm
// is reported apart.
func TestReactionStormAgainstChatd(t *testing.T) {
	srv := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: -1, SendByteRate: -1})
	const conns = 30
	res, err := bench.Run(context.Background(), bench.Config{
		URL:         srv.URL(),
		Scenario:    bench.ScenarioFanout,
		Proto:       bench.ProtoJSON,
		Conns:       conns,
		Senders:     2,
		Rate:        50,
		Duration:    2 * time.Second,
		Drain:       5 * time.Second,
		StormAt:     200 * time.Millisecond,
		StormWindow: 300 * time.Millisecond,
		StormEvery:  time.Second,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == 0 || res.Delivered != res.Expected || res.Lost != 0 || res.Duplicates != 0 ||
		res.OutOfOrder != 0 || res.Errors != 0 || res.Acks != res.Sent {
		t.Fatalf("messages: %+v", res)
	}
	if res.Storms != 2 || res.StormReacts != 2*conns || res.StormAcks != res.StormReacts || res.StormErrors != 0 {
		t.Fatalf("%d storms, %d reactions sent, %d acked, %d refused; want 2, %d, all acked",
			res.Storms, res.StormReacts, res.StormAcks, res.StormErrors, 2*conns)
	}
	// Each connection sees every other's reaction of a storm (and its own
	// when a reactions event covers it), one event each or fewer that
	// carry several.
	if res.StormCoveredPerConn < conns-1 || res.StormCoveredPerConn > conns {
		t.Errorf("%v reactions per connection per storm, want %d to %d", res.StormCoveredPerConn, conns-1, conns)
	}
	if res.StormEventsPerConn <= 0 || res.StormEventsPerConn > conns || res.StormEventsMax > conns {
		t.Errorf("%v reaction events per connection per storm (most %v), want 1 to %d",
			res.StormEventsPerConn, res.StormEventsMax, conns)
	}
	if res.StormLatencySamples == 0 || res.StormLatencySamples >= res.LatencySamples {
		t.Errorf("%d latency samples during the storms of %d in all", res.StormLatencySamples, res.LatencySamples)
	}
}

// TestReactionStormNeedsJSONFanout refuses a storm where there is nothing
// to react with.
func TestReactionStormNeedsJSONFanout(t *testing.T) {
	for _, cfg := range []bench.Config{
		{Proto: bench.ProtoPlain, StormAt: time.Second},
		{Proto: bench.ProtoJSON, Scenario: bench.ScenarioIdle, StormAt: time.Second},
		{Proto: bench.ProtoJSON, StormAt: time.Second, StormWindow: time.Second, StormEvery: 2 * time.Second},
	} {
		cfg.URL = "ws://127.0.0.1:1/ws"
		if _, err := bench.Run(context.Background(), cfg, nil); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
