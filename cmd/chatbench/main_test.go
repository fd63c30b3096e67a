package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/chatd/chatd/bench"
)

// roomServer is a tiny plain-text broadcast server with rooms: each text
// message goes to the other clients of the sender's ?room=.
func roomServer(t *testing.T) string {
	var mu sync.Mutex
	rooms := map[string]map[net.Conn]*sync.Mutex{}
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Counted before the upgrade: httptest's Close does not wait for
		// hijacked connections, and Add must not race with Wait.
		wg.Add(1)
		defer wg.Done()
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		room := r.URL.Query().Get("room")
		wmu := new(sync.Mutex)
		mu.Lock()
		if rooms[room] == nil {
			rooms[room] = map[net.Conn]*sync.Mutex{}
		}
		rooms[room][conn] = wmu
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(rooms[room], conn)
			mu.Unlock()
		}()
		for {
			msg, op, err := wsutil.ReadClientData(conn)
			if err != nil {
				return // the close frame is answered by ReadClientData
			}
			if op != ws.OpText {
				continue
			}
			mu.Lock()
			for c, cmu := range rooms[room] {
				if c != conn {
					cmu.Lock()
					wsutil.WriteServerText(c, msg)
					cmu.Unlock()
				}
			}
			mu.Unlock()
		}
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func TestJSONOutput(t *testing.T) {
	url := roomServer(t)
	for _, tc := range []struct {
		args     []string
		scenario string
		name     string
		progress string
	}{
		{
			[]string{"-scenario", "rooms", "-rooms", "3", "-members", "2", "-rate", "20", "-duration", "1100ms", "-drain", "1s"},
			"rooms", "rooms 3x2 r20", " rooms=3 ",
		},
		{
			[]string{"-scenario", "churn", "-conns", "3", "-rate", "50", "-duration", "1100ms"},
			"churn", "churn c3 r50", " connects=",
		},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"-url", url, "-json", "-server", "test"}, tc.args...)
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("chatbench %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, stderr.String())
		}
		var res bench.Result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("%s: stdout is not one JSON result: %v\n%s", tc.scenario, err, stdout.String())
		}
		if res.Scenario != tc.scenario || res.Server != "test" || res.Errors != 0 {
			t.Errorf("%s: scenario %q server %q errors %d %v", tc.scenario, res.Scenario, res.Server, res.Errors, res.ErrorDetail)
		}
		switch tc.scenario {
		case "rooms":
			if res.Conns != 6 || res.Delivered == 0 || res.Delivered != res.Expected || len(res.PerRoom) != 3 {
				t.Errorf("rooms: conns %d delivered %d of %d, %d rooms", res.Conns, res.Delivered, res.Expected, len(res.PerRoom))
			}
		case "churn":
			if res.Connects == 0 || res.ConnectsPerSec == 0 || res.HandshakeP99 == 0 {
				t.Errorf("churn: %d connects, %v/s, handshake p99 %v ms", res.Connects, res.ConnectsPerSec, res.HandshakeP99)
			}
		}
		if !strings.Contains(stderr.String(), tc.progress) {
			t.Errorf("%s: progress on stderr lacks %q:\n%s", tc.scenario, tc.progress, stderr.String())
		}
		var table bytes.Buffer
		if err := bench.Summarize(&table, bytes.NewReader(stdout.Bytes()), "none"); err != nil || !strings.Contains(table.String(), "| "+tc.name+" | test | 1 |") {
			t.Errorf("%s: summarize: %v\n%s", tc.scenario, err, table.String())
		}
	}
}

func TestScenarioFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-scenario", "rooms", "-senders", "2"}, "-senders does not apply to -scenario rooms"},
		{[]string{"-scenario", "churn", "-rooms", "2"}, "-rooms does not apply to -scenario churn"},
		{[]string{"-scenario", "fanout", "-members", "2"}, "-members does not apply to -scenario fanout"},
		{[]string{"-scenario", "idle", "-hold", "1s"}, "-hold does not apply to -scenario idle"},
		{[]string{"-scenario", "rooms", "-rate", "0", "-window", "0"}, "-rate 0 needs -window > 0"},
	} {
		var stderr bytes.Buffer
		code := run(append([]string{"-url", "ws://127.0.0.1:1/ws"}, tc.args...), io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("chatbench %v: exit %d, stderr %q, want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestPIDFlags: -pid and -pid-tree take comma-separated process ids, and
// refuse anything else.
func TestPIDFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // on stderr; "" for a run that succeeds
	}{
		{[]string{"-pid", "1,x"}, `bad process id "x"`},
		{[]string{"-pid", "0"}, `bad process id "0"`},
		{[]string{"-pid-tree", "1,,2"}, `bad process id ""`},
		{[]string{"-pid", "1,1", "-pid-tree", "1"}, ""},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"-url", roomServer(t), "-scenario", "idle", "-conns", "2", "-duration", "100ms", "-json", "-q"}, tc.args...)
		code := run(args, &stdout, &stderr)
		if tc.want != "" {
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("chatbench %v: exit %d, stderr %q, want 2 and %q", tc.args, code, stderr.String(), tc.want)
			}
			continue
		}
		var res bench.Result
		if err := json.Unmarshal(stdout.Bytes(), &res); code != 0 || err != nil || res.ServerCPU == nil || res.ServerRSS == nil {
			t.Errorf("chatbench %v: exit %d, %v, stderr %q: want a run with the server's CPU and RSS read",
				tc.args, code, err, stderr.String())
		}
	}
}
