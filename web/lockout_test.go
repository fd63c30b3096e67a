package web_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/server"
)

func TestABrowserThatSignedInBeforeGetsInWhileItsAccountIsUnderAttack(t *testing.T) {
	srv := startAccountServer(t, func(c *server.Config) {
		c.LoginFailuresPerAccount = 2
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	p := newBrowser(t).newPage(t, "wendy")
	p.open(srv)
	p.register("wendy", "wendy's password")
	p.do("log out", chromedp.Click(chromedp.ID("logout")))
	p.waitFor("the sign-in screen", `!document.getElementById("login").hidden`)

	// Guesses from other addresses use up the account's allowance for
	// devices it has not signed in on.
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
		req, err := http.NewRequest(http.MethodPost, "http://"+srv.Addr+"/api/login", strings.NewReader(`{"name":"wendy","password":"a wrong guess"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("guess %d: %s, want %d", i, resp.Status, want)
		}
	}
	p.login("wendy", "wendy's password")
}
