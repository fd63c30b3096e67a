package web_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAReactionStormShowsTheRightCount: members reacting to a message all
// at once reach the page as reactions events standing for runs of their
// reactions; the page shows the count the store holds, lets its user add
// to it, and shows the same after a reload.
func TestAReactionStormShowsTheRightCount(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	b := newBrowser(t)
	alice := b.newPage(t, "alice")
	alice.open(srv)
	alice.joinAsGuest("alice")
	alice.joinRoom("r")
	alice.say("react to this")
	alice.waitForText("react to this")

	watcher := dialWS(t, srv, "room=r&name=watcher", "chatd.v1")
	watcher.event("welcome")
	const users = 16
	var crowd []*wsClient
	for i := range users {
		c := dialWS(t, srv, fmt.Sprintf("room=r&name=u%d", i), "chatd.v1")
		c.event("welcome")
		crowd = append(crowd, c)
	}
	// Each gives 👍, takes it back and gives it again, without waiting.
	for k, typ := range []string{"react", "unreact", "react"} {
		for _, c := range crowd {
			c.send(fmt.Sprintf(`{"type":%q,"id":"%d","room":"r","target":1,"emoji":"👍"}`, typ, k))
		}
	}
	for _, c := range crowd {
		for range 3 {
			if ack := c.event("ack"); ack["request"] == nil {
				t.Fatalf("a reaction's reply %v", ack)
			}
		}
	}
	alice.waitFor(fmt.Sprintf("👍 %d", users),
		fmt.Sprintf(`document.querySelector('li[data-seq="1"] .reaction[data-emoji="👍"]')?.textContent === "👍 %d"`, users))

	// The storm reached the watcher as runs, not reaction by reaction.
	frames, covered := 0, 1.0
	for covered < 1+3*users {
		var ev map[string]any
		if err := json.Unmarshal([]byte(watcher.read()), &ev); err != nil {
			t.Fatal(err)
		}
		switch ev["type"] {
		case "react", "unreact", "reactions":
			frames++
			covered = ev["seq"].(float64)
		}
	}
	if frames >= 3*users {
		t.Fatalf("%d reactions reached a member in %d frames", 3*users, frames)
	}

	own := chromedp.CSS(`li[data-seq="1"] .reaction[data-emoji="👍"]`)
	alice.do("add alice's", chromedp.Click(own))
	alice.waitFor(fmt.Sprintf("👍 %d with alice's", users+1), fmt.Sprintf(`document.querySelector('li[data-seq="1"] .reaction[data-emoji="👍"]')?.textContent === "👍 %d"
		&& document.querySelector('li[data-seq="1"] .reaction').getAttribute("aria-pressed") === "true"`, users+1))
	alice.do("reload", chromedp.Reload())
	alice.waitFor("room r back", `document.body.dataset.conn === "open" && document.getElementById("view-title").textContent === "#r"`)
	alice.waitFor("the same count after the reload", fmt.Sprintf(`document.querySelector('li[data-seq="1"] .reaction[data-emoji="👍"]')?.textContent === "👍 %d"`, users+1))
}
