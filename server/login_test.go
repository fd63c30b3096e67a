package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/chatd/chatd/server"
)

// loginFrom posts a login as a client whose address a trusted proxy
// forwards, and returns the status and error code.
func loginFrom(t *testing.T, ts *testServer, forwardedFor, name, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	req, err := http.NewRequest("POST", "http://"+ts.addr+"/api/login", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", forwardedFor)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&reply)
	return resp.StatusCode, errCode(reply)
}

func TestAFullLoginTableTurnsNoOneAway(t *testing.T) {
	t.Cleanup(server.SetMaxTrackedKeys(4))
	ts, _ := startAccounts(t, func(c *server.Config) { c.LoginsPerIP = 1000 })
	register(t, ts, "kim", "kim's password")
	// Made-up names fill the per-account table many times over.
	for i := range 12 {
		status, reply, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": fmt.Sprintf("nobody%d", i), "password": "guess guess"})
		if status != http.StatusUnauthorized {
			t.Fatalf("made-up name %d: %d %v", i, status, reply)
		}
	}
	login(t, ts, "kim", "kim's password")
}

func TestLoginAttemptsCountIPv6AddressesBy64(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) {
		c.LoginsPerIP = 2
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	for i, tc := range []struct {
		from string
		want int
	}{
		{"2001:db8:1:2::1", http.StatusUnauthorized},
		{"2001:db8:1:2::2", http.StatusUnauthorized},
		{"2001:db8:1:2:ffff::9", http.StatusTooManyRequests}, // same /64
		{"2001:db8:1:3::1", http.StatusUnauthorized},         // another /64
	} {
		if status, code := loginFrom(t, ts, tc.from, fmt.Sprintf("user%d", i), "guess guess"); status != tc.want {
			t.Fatalf("login %d from %s: %d %s, want %d", i, tc.from, status, code, tc.want)
		}
	}
}

func TestAnAbandonedLoginIsNotCountedAsASuccess(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	register(t, ts, "lou", "lou's password")
	release := server.HoldHashing(ts.Server.Server)
	defer release()
	// A client sends its login and hangs up while the password waits to
	// be checked.
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"name":"lou","password":"lou's password"}`
	fmt.Fprintf(nc, "POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", ts.addr, len(body), body)
	nc.Close()
	login := func() map[server.AccountOutcome]uint64 {
		out := map[server.AccountOutcome]uint64{}
		for o, n := range ts.Stats().Accounts {
			if o.Request == "login" {
				out[o] = n
			}
		}
		return out
	}
	waitFor(t, "the abandoned login counted", func() bool { return len(login()) > 0 })
	want := map[server.AccountOutcome]uint64{{Request: "login", Result: "abandoned"}: 1}
	if got := login(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("login outcomes: %v, want %v", got, want)
	}
}
