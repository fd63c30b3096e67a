package web_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshot writes docs/screenshot.png, the picture of the client in
// the README. It runs only with CHATD_SCREENSHOT=1, so that test runs do
// not rewrite the file:
//
//	CHATD_SCREENSHOT=1 go test -run TestScreenshot ./web/
func TestScreenshot(t *testing.T) {
	if os.Getenv("CHATD_SCREENSHOT") != "1" {
		t.Skip("set CHATD_SCREENSHOT=1 to write docs/screenshot.png")
	}
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	b := newBrowser(t)
	alice := b.newPage(t, "alice")
	bob := b.newPage(t, "bob")
	alice.do("size the window", chromedp.EmulateViewport(1280, 760))
	for _, p := range []*page{bob, alice} {
		p.open(srv)
		p.joinAsGuest(p.name)
		p.joinRoom("golang")
	}
	carol := dialWS(t, srv, "name=carol&room=golang", "chatd.v1")
	carol.event("welcome")
	dave := dialWS(t, srv, "name=dave&room=golang")

	carol.post("golang", "Has anyone tried the new iterator functions in slices?")
	bob.say("Yes! slices.Collect(maps.Keys(m)) replaced half my helpers.")
	dave.send("the release notes are at https://go.dev/doc/go1.23")
	alice.waitForText("the release notes are at https://go.dev/doc/go1.23")
	alice.say("Nice. I'm moving the server to range-over-func this week.")
	carol.post("golang", "Ping me for review when it's up.\nHappy to pair on it too.")
	bob.do("go to lobby", chromedp.Click(chromedp.CSS(`#room-list [data-room="lobby"]`)))
	bob.say("lunch in 10 minutes?")
	alice.waitFor("an unread lobby message", `!!document.querySelector('#room-list [data-room="lobby"] .badge')`)
	alice.waitForText("Ping me for review when it's up.\nHappy to pair on it too.")
	alice.do("type", chromedp.SendKeys(chromedp.ID("input"), "Sounds good"))
	carol.send(`{"type":"typing","room":"golang"}`)
	alice.waitFor("carol typing", `document.getElementById("typing").textContent.includes("carol")`)

	shot, err := chromedp.Run(alice.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("..", "docs", "screenshot.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(shot))
}
