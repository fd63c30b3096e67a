package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// startAccountServer serves chatd with accounts and private rooms, kept in
// one SQLite store, with cheap password hashing for the tests' sake. tweak,
// if not nil, changes the configuration first.
func startAccountServer(t *testing.T, tweak func(*server.Config)) *servertest.Server {
	t.Helper()
	st := servertest.SQLite(t)
	cfg := server.Config{Store: st, Accounts: st, SendRate: -1,
		PasswordParams: auth.Params{Memory: 64, Time: 1, Threads: 1}}
	if tweak != nil {
		tweak(&cfg)
	}
	return servertest.Start(t, cfg)
}

// login signs in with the account form and waits for the connection.
func (p *page) login(name, password string) {
	p.t.Helper()
	p.do("show the form", chromedp.WaitVisible(chromedp.ID("login-button")))
	p.fill("account-name", name)
	p.do("log in as "+name,
		chromedp.SendKeys(chromedp.ID("account-password"), password),
		chromedp.Click(chromedp.ID("login-button")),
	)
	p.waitFor("the connection as "+name, `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent === `+jsString(name))
}

// revoke logs token out with the account API, as another device would.
func revoke(t *testing.T, srv *servertest.Server, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+srv.Addr+"/api/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("logout: %s", resp.Status)
	}
}

// storedToken is the login token the page keeps.
func (p *page) storedToken() string {
	p.t.Helper()
	return eval[string](p, `JSON.parse(localStorage.getItem("chatd.identity") ?? "{}").token ?? ""`)
}

// register signs up name with the account form and waits for the
// connection.
func (p *page) register(name, password string) {
	p.t.Helper()
	p.do("register "+name,
		chromedp.WaitVisible(chromedp.ID("register-button")),
		chromedp.SendKeys(chromedp.ID("account-name"), name),
		chromedp.SendKeys(chromedp.ID("account-password"), password),
		chromedp.Click(chromedp.ID("register-button")),
	)
	p.waitFor("the connection as "+name, `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent === `+jsString(name)+
		` && document.getElementById("me-kind").textContent === ""`)
}

func TestAnAccountStaysSignedInUntilItsTokenIsRevoked(t *testing.T) {
	srv := startAccountServer(t, nil)
	p := newBrowser(t).newPage(t, "alice")
	p.open(srv)
	p.register("alice", "correct horse battery")
	p.joinRoom("team")
	p.say("still here?")
	p.waitForText("still here?")

	p.do("reload", chromedp.Reload())
	p.waitFor("the connection after the reload", `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent === "alice"`)
	if !eval[bool](p, `document.getElementById("login").hidden`) {
		t.Fatal("the reload showed the sign-in screen")
	}
	p.waitFor("the room back, with its history", `document.getElementById("view-title").textContent.startsWith("#team")`)
	p.waitForText("still here?")

	// Logged out elsewhere, the token is revoked: the server closes the
	// connection with 4001 and the page asks to log in again.
	revoke(t, srv, p.storedToken())
	p.waitFor("the sign-in screen", `!document.getElementById("login").hidden && document.getElementById("login-notice").textContent.includes("Log in again")`)
	if tok := p.storedToken(); tok != "" {
		t.Fatalf("the page keeps the revoked token %q", tok)
	}
	p.login("alice", "correct horse battery")

	// Revoked while the page was away, the token is refused at the
	// handshake, which a page cannot see; it finds out and asks again.
	token := p.storedToken()
	p.do("leave the page", chromedp.Navigate("about:blank"))
	revoke(t, srv, token)
	p.open(srv)
	p.waitFor("the sign-in screen", `!document.getElementById("login").hidden && document.getElementById("login-notice").textContent.includes("Log in again")`)
	p.login("alice", "correct horse battery")

	p.do("log out", chromedp.Click(chromedp.ID("logout")))
	p.waitFor("the sign-in screen", `!document.getElementById("login").hidden`)
	p.do("reload", chromedp.Reload())
	p.waitFor("the sign-in screen after the reload", `!document.getElementById("login").hidden && document.getElementById("chat").hidden`)
}

func TestTheTokenIsRefreshedWithoutReconnecting(t *testing.T) {
	// The page refreshes at 70–90% of the token's life: a life of 10 s
	// leaves it a second or more for the request, which a busy machine
	// running Chromium needs (3 s left 0.3 s, and the token expired first).
	srv := startAccountServer(t, func(c *server.Config) { c.TokenTTL = 10 * time.Second })
	p := newBrowser(t).newPage(t, "alice")
	p.open(srv)
	p.register("alice", "correct horse battery")
	// Two refreshes take the page past the first token's expiry, when the
	// server would have closed a connection that did not present the new
	// token.
	for range 2 {
		p.waitFor("a refreshed token", `JSON.parse(localStorage.getItem("chatd.identity")).token !== `+jsString(p.storedToken()))
	}
	p.waitFor("the connection", `document.body.dataset.conn === "open"`)
	if n := srv.Stats().Accepted; n != 1 {
		t.Fatalf("the page opened %d connections; want the first to last", n)
	}
}

func TestPrivateRoomIsInvisibleToNonMembers(t *testing.T) {
	srv := startAccountServer(t, nil)
	b := newBrowser(t)
	alice := b.newPage(t, "alice")
	bob := b.newPage(t, "bob")
	for _, p := range []*page{alice, bob} {
		p.open(srv)
		p.register(p.name, "password of "+p.name)
	}

	alice.do("create a private room",
		chromedp.SendKeys(chromedp.ID("join-name"), "secret"),
		chromedp.Click(chromedp.ID("join-private")),
		chromedp.Click(chromedp.ID("join-button")),
	)
	alice.waitFor("the private room", `document.getElementById("view-title").textContent === "#secret" && !document.getElementById("view-private").hidden`)
	alice.say("for members only")
	alice.waitForText("for members only")

	// The room list does not name it, and joining it is refused.
	bob.do("browse rooms", chromedp.Click(chromedp.CSS("#browse summary")))
	bob.waitFor("the room list", `!!document.querySelector('#browse-list [data-room="lobby"]')`)
	if eval[bool](bob, `!!document.querySelector('#browse-list [data-room="secret"]')`) {
		t.Fatal("a non-member sees the private room in the room list")
	}
	bob.do("try to join", chromedp.SendKeys(chromedp.ID("join-name"), "secret"), chromedp.Click(chromedp.ID("join-button")))
	bob.waitFor("the refusal", `[...document.querySelectorAll("#notices .notice.error")].some(n => n.textContent.includes("Cannot join #secret"))`)
	if eval[bool](bob, `!!document.querySelector('#room-list [data-room="secret"]') || document.body.textContent.includes("for members only")`) {
		t.Fatal("a non-member got into the private room")
	}

	// Invited, bob is in, with its history; removed, out again.
	alice.do("invite bob", chromedp.SendKeys(chromedp.ID("invite-name"), "bob"), chromedp.Click(chromedp.CSS("#invite-form button")))
	bob.waitFor("the invitation", `[...document.querySelectorAll("#notices .notice")].some(n => n.textContent.includes("alice invited you to the private room #secret"))`)
	bob.do("accept", chromedp.Click(chromedp.CSS(`#notices .notice button.link:not(.dismiss)`)))
	bob.waitForText("for members only")
	bob.waitFor("the room marked private", `!!document.querySelector('#room-list [data-room="secret"] .tag')`)
	alice.waitFor("bob in the member list", `!!document.querySelector('#member-list [data-user="bob"].online')`)
	alice.do("remove bob", chromedp.Click(chromedp.CSS(`#member-list [data-user="bob"] .remove`)))
	bob.waitFor("the removal", `[...document.querySelectorAll("#notices .notice")].some(n => n.textContent.includes("alice removed you from #secret"))`)
	if eval[bool](bob, `!!document.querySelector('#room-list [data-room="secret"]')`) {
		t.Fatal("the removed member still lists the room")
	}
}
