package server_test

import (
	"bufio"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestOriginIsChecked(t *testing.T) {
	ts := servertest.Start(t, server.Config{AllowedOrigins: []string{"https://chat.example.com"}})
	origin := func(o string) *websocket.DialOptions {
		return &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {o}}}
	}
	for _, bad := range []string{"https://evil.example", "null", "http://" + ts.Addr + ".evil.example", "https://chat.example.com.evil.example"} {
		if status, _ := dialRefused(t, ts, "", origin(bad)); status != http.StatusForbidden {
			t.Errorf("origin %s: %d", bad, status)
		}
	}
	for _, good := range []string{"http://" + ts.Addr, "https://chat.example.com"} {
		dialWith(t, ts, "", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}, HTTPHeader: http.Header{"Origin": {good}}})
	}
	dial(t, ts, "") // no Origin: not a browser
	if got := ts.Stats().Refused[server.RefusedOrigin]; got != 4 {
		t.Fatalf("refused for origin: %d", got)
	}
}

func TestConnectionsPerAddressAreCapped(t *testing.T) {
	ts := servertest.Start(t, server.Config{IPConns: 2})
	a := dial(t, ts, "")
	dial(t, ts, "")
	if status, _ := dialRefused(t, ts, "", nil); status != http.StatusTooManyRequests {
		t.Fatalf("third connection: %d", status)
	}
	a.ws.Close(websocket.StatusNormalClosure, "")
	servertest.WaitFor(t, "the slot to free", func() bool { return ts.Stats().Conns == 1 })
	dial(t, ts, "")
	if got := ts.Stats().Refused[server.RefusedIPConns]; got != 1 {
		t.Fatalf("refused: %d", got)
	}
}

func TestConnectionRatePerAddress(t *testing.T) {
	ts := servertest.Start(t, server.Config{IPConnRate: 0.001, IPConnBurst: 3})
	for range 3 {
		dial(t, ts, "")
	}
	status, _ := dialRefused(t, ts, "", nil)
	if status != http.StatusTooManyRequests || ts.Stats().Refused[server.RefusedIPRate] != 1 {
		t.Fatalf("fourth connection in a burst of 3: %d", status)
	}
}

func TestForwardedForIsTrustedOnlyFromProxies(t *testing.T) {
	forwarded := func(addr string) *websocket.DialOptions {
		return &websocket.DialOptions{HTTPHeader: http.Header{"X-Forwarded-For": {addr}}}
	}
	// Untrusted: the header is ignored, so both count against 127.0.0.1.
	ts := servertest.Start(t, server.Config{IPConns: 1})
	dialWith(t, ts, "", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}, HTTPHeader: http.Header{"X-Forwarded-For": {"203.0.113.1"}}})
	if status, _ := dialRefused(t, ts, "", forwarded("203.0.113.2")); status != http.StatusTooManyRequests {
		t.Fatalf("spoofed header: %d", status)
	}
	// Behind a trusted proxy, each forwarded client has its own count.
	proxied := servertest.Start(t, server.Config{IPConns: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	dialWith(t, proxied, "", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}, HTTPHeader: http.Header{"X-Forwarded-For": {"203.0.113.1"}}})
	dialWith(t, proxied, "", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}, HTTPHeader: http.Header{"X-Forwarded-For": {"198.51.100.9, 203.0.113.2"}}})
	if status, _ := dialRefused(t, proxied, "", forwarded("203.0.113.1")); status != http.StatusTooManyRequests {
		t.Fatalf("second connection of a forwarded client: %d", status)
	}
}

func TestLoginAttemptsAreThrottled(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.LoginsPerAccount = 3; c.LoginsPerIP = 6 })
	register(t, ts, "judy", "judy's password")
	wrong := map[string]string{"name": "judy", "password": "guess guess"}
	for range 3 {
		if status, _, _ := api(t, ts, "POST", "/api/login", "", wrong); status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", status)
		}
	}
	status, reply, h := api(t, ts, "POST", "/api/login", "", map[string]string{"name": "JUDY", "password": "judy's password"})
	if status != http.StatusTooManyRequests || errCode(reply) != "rate_limited" {
		t.Fatalf("fourth attempt on the account: %d %v", status, reply)
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q", h.Get("Retry-After"))
	}
	// The address has used 1 registration and 4 logins of its 6; other
	// accounts are throttled by address after that.
	for i, want := range []int{http.StatusUnauthorized, http.StatusTooManyRequests} {
		if status, _, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": "someone" + strconv.Itoa(i), "password": "guess guess"}); status != want {
			t.Fatalf("login %d from the address: %d, want %d", i, status, want)
		}
	}
	got := ts.Stats().Accounts
	want := map[server.AccountOutcome]uint64{
		{Request: "register", Result: "ok"}:               1,
		{Request: "login", Result: "invalid_credentials"}: 4,
		{Request: "login", Result: "rate_limited"}:        2,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("account outcomes counted: %v, want %v", got, want)
	}
}

func TestMetacharactersAreStoredLiterally(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	const password = `'; DROP TABLE users; -- <script>alert("x")</script> %_\`
	tok := register(t, ts, "mallory", password)
	login(t, ts, "mallory", password)
	for _, name := range []string{`x'; DROP TABLE users; --`, `<img src=x onerror=alert(1)>`, `a"b`} {
		if status, reply, _ := api(t, ts, "POST", "/api/register", "", map[string]string{"name": name, "password": password}); status != http.StatusBadRequest || errCode(reply) != "invalid_request" {
			t.Fatalf("register %q: %d %v", name, status, reply)
		}
	}
	c := dialToken(t, ts, tok)
	c.do(`{"type":"join","id":"j","room":"lab"}`)
	const text = `<script>alert(1)</script>'); DELETE FROM messages; -- %_ \u0000 "quoted" &amp;`
	c.do(`{"type":"send","id":"s","room":"lab","text":` + strconv.Quote(text) + `}`)
	msgs := c.do(`{"type":"history","id":"h","room":"lab"}`)["messages"].([]any)
	if got := msgs[len(msgs)-1].(map[string]any)["text"]; got != text {
		t.Fatalf("history returned %q, want %q", got, text)
	}
	login(t, ts, "mallory", password) // the users table is still there
}

func TestAccountAPIRefusesOtherOrigins(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	body := strings.NewReader(`{"name":"victim","password":"chosen by the attacker"}`)
	req, err := http.NewRequest("POST", "http://"+ts.Addr+"/api/register", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Content-Type", "text/plain") // a "simple" cross-site request
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site register: %d", resp.StatusCode)
	}
	// The server's own pages, and clients that are not browsers, may.
	req, _ = http.NewRequest("POST", "http://"+ts.Addr+"/api/register", strings.NewReader(`{"name":"victim","password":"chosen by the user"}`))
	req.Header.Set("Origin", "http://"+ts.Addr)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("same-origin register: %d", resp.StatusCode)
	}
}

func TestAnAPIBodyTrickledTooSlowlyIsCutOff(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.HandshakeTimeout = 200 * time.Millisecond })
	nc, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\n{\"name\":", ts.Addr)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("stalled body: %d", resp.StatusCode)
	}
}

func TestAFullAddressTableTurnsNoNewcomerAway(t *testing.T) {
	t.Cleanup(server.SetMaxTrackedAddrs(4))
	ts := servertest.Start(t, server.Config{IPConnRate: 0.001, IPConnBurst: 3,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	from := func(addr string) *websocket.DialOptions {
		return &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}, HTTPHeader: http.Header{"X-Forwarded-For": {addr}}}
	}
	// Addresses that connected once and left fill the table many times over
	// (an IPv6 /48 holds 65,536 of the /64s chatd counts by).
	for i := range 12 {
		c := dialWith(t, ts, "", from(fmt.Sprintf("2001:db8:0:%x::1", i)))
		c.ws.Close(websocket.StatusNormalClosure, "")
	}
	servertest.WaitFor(t, "the flood's connections to close", func() bool { return ts.Stats().Conns == 0 })
	dialWith(t, ts, "", from("203.0.113.7"))
	if got := ts.Stats().Refused[server.RefusedIPRate]; got != 0 {
		t.Fatalf("refused for rate: %d", got)
	}
}
