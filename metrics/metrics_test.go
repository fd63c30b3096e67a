package metrics_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/metrics"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scrape fetches srv's /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, srv *servertest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + srv.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// TestScrapeAfterKnownTraffic drives a real server with real clients and
// checks the scraped values, parsed with the Prometheus text parser.
func TestScrapeAfterKnownTraffic(t *testing.T) {
	srv := servertest.Start(t, server.Config{Accounts: memory.NewAccounts(), PasswordParams: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	srv.Handle("GET /metrics", metrics.Handler(srv))
	base := srv.URL()
	for path, body := range map[string]string{
		"/api/register": `{"name":"kai","password":"kai's password"}`,
		"/api/login":    `{"name":"kai","password":"not kai's password"}`,
	} {
		resp, err := http.Post("http://"+srv.Addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	var clients []*websocket.Conn
	for range 3 {
		c, _, err := websocket.Dial(dctx, base+"?room=m", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		clients = append(clients, c)
	}
	j, _, err := websocket.Dial(dctx, base+"?room=m&name=j", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.CloseNow()
	if _, _, err := j.Read(dctx); err != nil { // welcome
		t.Fatal(err)
	}
	// A client's handshake completes just before it joins its room.
	servertest.WaitFor(t, "the clients to register", func() bool { return srv.Stats().Conns >= 4 })
	for _, req := range []string{`{"type":"send","room":"m","text":"x"}`, `{"type":"nope"}`} {
		if err := j.Write(dctx, websocket.MessageText, []byte(req)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := j.Read(dctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, resp, err := websocket.Dial(dctx, base+"?room=bad%20room", nil); err == nil || resp.StatusCode != 400 {
		t.Fatalf("bad room accepted: %v", err)
	}
	for range 2 {
		if err := clients[0].Write(dctx, websocket.MessageText, []byte("hello")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range clients[1:] {
		for range 2 {
			if _, _, err := c.Read(dctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	families := scrape(t, srv)
	value := func(name string, label ...string) float64 {
		t.Helper()
		f := families[name]
		if f == nil {
			t.Fatalf("no metric %s", name)
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(label); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == label[i] && lp.GetValue() == label[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
		t.Fatalf("no %s with labels %v", name, label)
		return 0
	}
	checks := []struct {
		name  string
		label []string
		want  float64
	}{
		{"chatd_connections", nil, 4},
		{"chatd_rooms", nil, 1},
		{"chatd_connections_accepted_total", nil, 4},
		{"chatd_connections_refused_total", []string{"reason", "invalid"}, 1},
		{"chatd_connections_refused_total", []string{"reason", "capacity"}, 0},
		{"chatd_messages_received_total", nil, 3},
		{"chatd_deliveries_total", nil, 2*3 + 1*3}, // two plain messages and the JSON one, each to 3 others
		{"chatd_slow_consumer_evictions_total", nil, 0},
		{"chatd_request_errors_total", []string{"code", "unknown_type"}, 1},
		{"chatd_request_errors_total", []string{"code", "rate_limited"}, 0},
		{"chatd_account_requests_total", []string{"request", "register", "result", "ok"}, 1},
		{"chatd_account_requests_total", []string{"request", "login", "result", "invalid_credentials"}, 1},
	}
	for _, c := range checks {
		if got := value(c.name, c.label...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.label, got, c.want)
		}
	}
	// The clients have read their frames, so some writes were made.
	if value("chatd_socket_writes_total") <= 0 {
		t.Error("no socket writes counted")
	}
	if value("go_goroutines") <= 0 {
		t.Error("no Go runtime metrics")
	}
}
