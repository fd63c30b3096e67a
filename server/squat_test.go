package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// startJWT starts a server with accounts that accepts JWTs signed with a
// secret, and returns a function that signs one for sub.
func startJWT(t *testing.T) (*servertest.Server, func(sub string) string) {
	t.Helper()
	secret := []byte(strings.Repeat("k", 32))
	v, err := auth.NewVerifier(auth.JWTConfig{HMACSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startAccounts(t, func(c *server.Config) { c.JWT = v })
	return ts, func(sub string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestAJWTUserTakesItsNameFromAGuest(t *testing.T) {
	ts, sign := startJWT(t)
	squatter := dialJSON(t, ts, "name=Nina")
	squatter.do(`{"type":"join","id":"j","room":"r"}`)

	nina := dialToken(t, ts, sign("nina"))
	if nina.welcome["name"] != "nina" || nina.welcome["auth"] != "jwt" {
		t.Fatalf("welcome %v", nina.welcome)
	}
	squatter.expectClose(4002, "signed-in user")

	// Direct messages to the name reach the JWT user.
	other := dialJSON(t, ts, "")
	other.do(`{"type":"dm","id":"d","to":"nina","text":"for nina"}`)
	if dm := nina.expect("dm"); dm["text"] != "for nina" {
		t.Fatalf("dm %v", dm)
	}
}

func TestAJWTUsersNameIsNeverGivenToAGuest(t *testing.T) {
	ts, sign := startJWT(t)
	oscar := dialToken(t, ts, sign("oscar"))
	oscar.ws.CloseNow()
	servertest.WaitFor(t, "oscar gone", func() bool { return ts.Stats().Conns == 0 })

	// Gone or not, the name stays the JWT user's.
	if status, body := dialRefused(t, ts, "name=OSCAR", nil); status != http.StatusConflict {
		t.Fatalf("a guest as a JWT user's name: %d %q", status, body)
	}
	if status, reply, _ := api(t, ts, "POST", "/api/register", "", map[string]string{"name": "oscar", "password": "oscar's password"}); status != http.StatusConflict {
		t.Fatalf("register a JWT user's name: %d %v", status, reply)
	}
	// The JWT user has no password to guess.
	if status, reply, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": "oscar", "password": "any password"}); status != http.StatusUnauthorized || errCode(reply) != "invalid_credentials" {
		t.Fatalf("log in as a JWT user: %d %v", status, reply)
	}
	dialToken(t, ts, sign("oscar"))
}

func TestAGuestIsRefusedAnAccountsNameAsAnyTakenName(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	register(t, ts, "otto", "otto's password")
	dialJSON(t, ts, "name=pia")
	accountStatus, accountBody := dialRefused(t, ts, "name=otto", nil)
	guestStatus, guestBody := dialRefused(t, ts, "name=pia", nil)
	if accountStatus != guestStatus || strings.ReplaceAll(accountBody, "otto", "pia") != guestBody {
		t.Fatalf("an account's name: %d %q; a guest's: %d %q", accountStatus, accountBody, guestStatus, guestBody)
	}
	if guestStatus != http.StatusConflict {
		t.Fatalf("a held name: %d", guestStatus)
	}
}

func TestNamesThatPassForAnotherAreRefused(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	for _, name := range []string{"victim1.", "victim1_", "victim1-"} {
		if status, body := dialRefused(t, ts, "name="+name, nil); status != http.StatusBadRequest {
			t.Errorf("connect as %q: %d %q", name, status, body)
		}
		if status, reply, _ := api(t, ts, "POST", "/api/register", "", map[string]string{"name": name, "password": "a good password"}); status != http.StatusBadRequest {
			t.Errorf("register %q: %d %v", name, status, reply)
		}
	}
}
