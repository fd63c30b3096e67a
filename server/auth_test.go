package server_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
)

func TestRegisterLoginRefreshLogout(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	tok1 := register(t, ts, "Alice", "correct horse")

	if status, reply, _ := api(t, ts, "POST", "/api/register", "", map[string]string{"name": "ALICE", "password": "another one"}); status != http.StatusConflict || errCode(reply) != "name_taken" {
		t.Fatalf("second ALICE: %d %v", status, reply)
	}
	if status, reply, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": "alice", "password": "wrong horse"}); status != http.StatusUnauthorized || errCode(reply) != "invalid_credentials" {
		t.Fatalf("wrong password: %d %v", status, reply)
	}
	if status, reply, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": "nobody", "password": "whatever1"}); status != http.StatusUnauthorized || errCode(reply) != "invalid_credentials" {
		t.Fatalf("unknown user: %d %v", status, reply)
	}
	tok2 := login(t, ts, "alice", "correct horse")
	if tok1 == tok2 {
		t.Fatal("two logins got the same token")
	}
	status, me, _ := api(t, ts, "GET", "/api/me", tok2, nil)
	if status != http.StatusOK || me["name"] != "Alice" || me["auth"] != "account" {
		t.Fatalf("me: %d %v", status, me)
	}

	// Every way of presenting the token signs in.
	byHeader := dialWith(t, ts, "", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}, HTTPHeader: http.Header{"Authorization": {"Bearer " + tok2}}})
	bySubprotocol := dialToken(t, ts, tok2)
	byQuery := dialWith(t, ts, "token="+tok2, &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	for _, c := range []*jsonClient{byHeader, bySubprotocol, byQuery} {
		if c.welcome["name"] != "Alice" || c.welcome["auth"] != "account" || c.welcome["expires"].(float64) <= float64(time.Now().UnixMilli()) {
			t.Fatalf("welcome %v", c.welcome)
		}
	}
	if got := bySubprotocol.ws.Subprotocol(); got != "chatd.v1" {
		t.Fatalf("server chose subprotocol %q", got)
	}

	// Refresh swaps the token; the old one stops working.
	status, fresh, _ := api(t, ts, "POST", "/api/refresh", tok2, nil)
	if status != http.StatusOK || fresh["token"] == tok2 {
		t.Fatalf("refresh: %d %v", status, fresh)
	}
	tok3 := fresh["token"].(string)
	if status, _, _ := api(t, ts, "GET", "/api/me", tok2, nil); status != http.StatusUnauthorized {
		t.Fatalf("refreshed-away token: %d", status)
	}
	// A connection presents the fresh token without reconnecting.
	if ack := byHeader.do(`{"type":"auth","id":"a","token":"` + tok3 + `"}`); ack["expires"].(float64) <= 0 {
		t.Fatalf("auth ack %v", ack)
	}

	// Logout revokes the token and closes the connections it opened,
	// also those opened with the token it replaced; tok1 lives on.
	other := dialToken(t, ts, tok1)
	if status, _, _ := api(t, ts, "POST", "/api/logout", tok3, nil); status != http.StatusNoContent {
		t.Fatalf("logout: %d", status)
	}
	for _, c := range []*jsonClient{byHeader, bySubprotocol, byQuery} {
		c.expectClose(4001, "logged out")
	}
	if status, _, _ := api(t, ts, "GET", "/api/me", tok3, nil); status != http.StatusUnauthorized {
		t.Fatalf("logged-out token: %d", status)
	}
	other.do(`{"type":"rooms"}`)
	if status, body := dialRefused(t, ts, "", bearer(tok3)); status != http.StatusUnauthorized || !strings.Contains(body, "revoked") {
		t.Fatalf("dial with a revoked token: %d %q", status, body)
	}
}

func TestPasswordChangeRevokesEveryToken(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	tok1 := register(t, ts, "bob", "first password")
	tok2 := login(t, ts, "bob", "first password")
	conn2 := dialToken(t, ts, tok2)

	if status, reply, _ := api(t, ts, "POST", "/api/password", tok1, map[string]string{"password": "not it at all", "new_password": "second password"}); status != http.StatusUnauthorized {
		t.Fatalf("wrong old password: %d %v", status, reply)
	}
	status, reply, _ := api(t, ts, "POST", "/api/password", tok1, map[string]string{"password": "first password", "new_password": "second password"})
	if status != http.StatusOK {
		t.Fatalf("change: %d %v", status, reply)
	}
	conn2.expectClose(4001, "password changed")
	for _, tok := range []string{tok1, tok2} {
		if status, _, _ := api(t, ts, "GET", "/api/me", tok, nil); status != http.StatusUnauthorized {
			t.Fatalf("old token after a password change: %d", status)
		}
	}
	if status, _, _ := api(t, ts, "GET", "/api/me", reply["token"].(string), nil); status != http.StatusOK {
		t.Fatalf("the new token: %d", status)
	}
	if status, _, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": "bob", "password": "first password"}); status != http.StatusUnauthorized {
		t.Fatalf("old password: %d", status)
	}
	login(t, ts, "bob", "second password")
}

func TestBadTokensAreRefused(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	v, err := auth.NewVerifier(auth.JWTConfig{HMACSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startAccounts(t, func(c *server.Config) { c.JWT = v })
	tok := register(t, ts, "carol", "carol's password")
	sign := func(claims jwt.MapClaims, key []byte) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(time.Hour).Unix()
	good := sign(jwt.MapClaims{"sub": "u-17", "name": "dave", "exp": exp}, secret)
	payload := strings.Split(good, ".")
	cases := map[string]string{
		"login token with a changed character": tok[:len(tok)-1] + string(rune('A'+(tok[len(tok)-1]+1)%26)),
		"unknown login token":                  auth.TokenPrefix + strings.Repeat("A", 43),
		"JWT signed with another secret":       sign(jwt.MapClaims{"sub": "u-17", "exp": exp}, []byte(strings.Repeat("x", 32))),
		"expired JWT":                          sign(jwt.MapClaims{"sub": "u-17", "name": "dave", "exp": time.Now().Add(-time.Minute).Unix()}, secret),
		"JWT without exp":                      sign(jwt.MapClaims{"sub": "u-17", "name": "dave"}, secret),
		"alg none":                             "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload[1] + ".",
		"JWT with a tampered payload": payload[0] + "." +
			base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"u-17","name":"root","exp":%d}`, exp))) + "." + payload[2],
		"JWT naming a guest": sign(jwt.MapClaims{"sub": "guest-1", "exp": exp}, secret),
	}
	for name, bad := range cases {
		if status, body := dialRefused(t, ts, "", bearer(bad)); status != http.StatusUnauthorized {
			t.Errorf("%s: %d %q", name, status, body)
		}
	}
	c := dialWith(t, ts, "", &websocket.DialOptions{Subprotocols: []string{"chatd.v1", "chatd.token." + good}})
	if c.welcome["name"] != "dave" || c.welcome["auth"] != "jwt" {
		t.Fatalf("welcome %v", c.welcome)
	}
}

func TestTokenExpiryClosesUnlessRefreshed(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	v, err := auth.NewVerifier(auth.JWTConfig{HMACSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startAccounts(t, func(c *server.Config) { c.JWT = v })
	token := func(ttl time.Duration) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "erin", "exp": time.Now().Add(ttl).Unix()}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	short := token(2 * time.Second)
	refreshed := dialToken(t, ts, short)
	lapsed := dialToken(t, ts, short)
	refreshed.do(`{"type":"auth","id":"r","token":"` + token(time.Hour) + `"}`)
	lapsed.expectClose(4001, "expired")
	// The refreshed connection outlived the token it opened with.
	refreshed.do(`{"type":"rooms"}`)

	if r := refreshed.request(`{"type":"auth","id":"x","token":"` + token(-time.Minute) + `"}`); r["code"] != "unauthorized" {
		t.Fatalf("auth with an expired token: %v", r)
	}
	other, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "mallory", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	if r := refreshed.request(`{"type":"auth","id":"y","token":"` + other + `"}`); r["code"] != "forbidden" {
		t.Fatalf("auth as someone else: %v", r)
	}
	guest := dialJSON(t, ts, "")
	if r := guest.request(`{"type":"auth","id":"z","token":"` + token(time.Hour) + `"}`); r["code"] != "forbidden" {
		t.Fatalf("auth on a guest connection: %v", r)
	}
}

func TestAuthRequiredRefusesGuests(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.Auth = server.AuthRequired })
	tok := register(t, ts, "frank", "frank's password")
	if status, body := dialRefused(t, ts, "", nil); status != http.StatusUnauthorized || !strings.Contains(body, "token") {
		t.Fatalf("plain guest: %d %q", status, body)
	}
	if status, _ := dialRefused(t, ts, "name=frank", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}}); status != http.StatusUnauthorized {
		t.Fatalf("JSON guest: %d", status)
	}
	// A plain client signs in with a header, and chats with a JSON one.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(ts, ""), bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	plain := &client{t: t, ws: ws}
	j := dialToken(t, ts, tok)
	j.do(`{"type":"join","id":"j","room":"lobby"}`)
	plain.send("hello from the terminal")
	if m := j.expect("message"); m["text"] != "hello from the terminal" || m["from"] != "frank" {
		t.Fatalf("message %v", m)
	}
	_, cfg, _ := api(t, ts, "GET", "/api/config", "", nil)
	if cfg["auth"] != "required" {
		t.Fatalf("config %v", cfg)
	}
}

func TestGuestsCannotTakeAccountNames(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	tok := register(t, ts, "grace", "grace's password")
	for _, q := range []string{"name=grace", "name=GRACE"} {
		if status, body := dialRefused(t, ts, q, nil); status != http.StatusConflict || !strings.Contains(body, "signs in") {
			t.Fatalf("%s: %d %q", q, status, body)
		}
	}
	// A guest who holds a name blocks its registration while connected.
	dialJSON(t, ts, "name=heidi")
	if status, reply, _ := api(t, ts, "POST", "/api/register", "", map[string]string{"name": "Heidi", "password": "heidi's password"}); status != http.StatusConflict {
		t.Fatalf("register a name a guest holds: %d %v", status, reply)
	}
	// A signed-in user's messages carry its name whatever the request says.
	g := dialToken(t, ts, tok)
	g.do(`{"type":"join","id":"j","room":"r"}`)
	watcher := dialJSON(t, ts, "")
	watcher.do(`{"type":"join","id":"j","room":"r"}`)
	g.do(`{"type":"send","id":"s","room":"r","text":"hi","from":"heidi"}`)
	if m := watcher.expect("message"); m["from"] != "grace" {
		t.Fatalf("message %v", m)
	}
}

func TestReadPositionsOfAccountsOutliveConnections(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	tok := register(t, ts, "ivan", "ivan's password")
	c := dialToken(t, ts, tok)
	c.do(`{"type":"join","id":"j","room":"news"}`)
	for range 3 {
		c.do(`{"type":"send","id":"s","room":"news","text":"x"}`)
	}
	c.do(`{"type":"read","id":"r","room":"news","seq":2}`)
	c.ws.Close(websocket.StatusNormalClosure, "")
	servertest.WaitFor(t, "the connection to go", func() bool { return ts.Stats().Conns == 0 })

	again := dialToken(t, ts, tok)
	reads, _ := again.welcome["reads"].(map[string]any)
	if reads["news"] != float64(2) {
		t.Fatalf("welcome after reconnecting: %v", again.welcome)
	}
}

func TestExpiredTokensAreDeleted(t *testing.T) {
	defer server.SetTokenSweepInterval(20 * time.Millisecond)()
	ts, st := startAccounts(t, nil)
	live := auth.HashToken(register(t, ts, "kim", "kim's password"))
	// A token that expired a minute ago, put straight into the store: a
	// token that expires during the test would race the sweep with the
	// test's own look at it.
	ctx := context.Background()
	kim, err := st.Token(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	expired := auth.HashToken("an expired secret")
	past := time.Now().Add(-time.Minute)
	if err := st.CreateToken(ctx, store.Token{Hash: expired, User: kim.User, Created: past.Add(-time.Hour), Expires: past}); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, "the expired token to be deleted", func() bool {
		_, err := st.Token(ctx, expired)
		return errors.Is(err, store.ErrNotFound)
	})
	if _, err := st.Token(ctx, live); err != nil {
		t.Fatalf("the live token went with the expired one: %v", err)
	}
}
