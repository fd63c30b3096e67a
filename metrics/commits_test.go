package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/metrics"
	"github.com/chatd/chatd/server"
)

func TestStoreCommitsAreMeasured(t *testing.T) {
	st := servertest.SQLite(t)
	commits := metrics.NewCommits()
	srv := servertest.Start(t, server.Config{Store: st, OnCommit: commits.Observe})
	srv.Handle("GET /metrics", metrics.Handler(srv, commits))

	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	c, _, err := websocket.Dial(dctx, srv.URL()+"?room=m", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, _, err := c.Read(dctx); err != nil { // welcome
		t.Fatal(err)
	}
	for range 5 {
		if err := c.Write(dctx, websocket.MessageText, []byte(`{"type":"send","room":"m","text":"x"}`)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(dctx); err != nil { // its ack: stored
			t.Fatal(err)
		}
	}

	families := scrape(t, srv)
	size := families["chatd_store_batch_messages"].GetMetric()[0].GetHistogram()
	if size.GetSampleSum() != 5 || size.GetSampleCount() < 1 {
		t.Fatalf("batch sizes: sum %v over %d commits, want 5 messages", size.GetSampleSum(), size.GetSampleCount())
	}
	latency := families["chatd_store_commit_seconds"].GetMetric()[0].GetHistogram()
	if latency.GetSampleCount() != size.GetSampleCount() || latency.GetSampleSum() <= 0 {
		t.Fatalf("commit latency: %d samples, sum %v", latency.GetSampleCount(), latency.GetSampleSum())
	}
	if n := families["chatd_store_commit_failures_total"].GetMetric()[0].GetCounter().GetValue(); n != 0 {
		t.Fatalf("%v failed commits", n)
	}
}
