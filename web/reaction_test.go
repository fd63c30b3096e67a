package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestReactToAMessageAcrossTwoPages(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	b := newBrowser(t)
	alice := b.newPage(t, "alice")
	bob := b.newPage(t, "bob")
	for _, p := range []*page{alice, bob} {
		p.open(srv)
		p.joinAsGuest(p.name)
		p.joinRoom("r")
	}
	plain := dialWS(t, srv, "room=r&name=plain")
	alice.waitFor("plain in the member list", `!!document.querySelector('#member-list [data-user="plain"]')`)
	alice.say("ship it?")
	bob.waitForText("ship it?")

	// Bob reacts by keyboard: the React button, then the first choice.
	bob.do("react", chromedp.Evaluate[chromedp.Void](`document.querySelector('li[data-seq="1"] button[data-action="react"]').focus()`),
		pressKey("Enter", 13, "\r"))
	bob.waitFor("the picker, focused", `document.activeElement.matches('li[data-seq="1"] .reaction-picker button')`)
	bob.do("pick 👍", pressKey("Enter", 13, "\r"))
	for _, p := range []*page{alice, bob} {
		p.waitFor("👍 1", `document.querySelector('li[data-seq="1"] .reactions .reaction[data-emoji="👍"]')?.textContent === "👍 1"`)
	}
	if pressed := eval[string](bob, `document.querySelector('li[data-seq="1"] .reaction').getAttribute("aria-pressed")`); pressed != "true" {
		t.Fatalf("bob's own reaction is not marked his: aria-pressed %q", pressed)
	}

	// Alice adds hers by clicking the reaction, then takes it back.
	own := chromedp.CSS(`li[data-seq="1"] .reaction[data-emoji="👍"]`)
	alice.do("toggle on", chromedp.Click(own))
	for _, p := range []*page{alice, bob} {
		p.waitFor("👍 2", `document.querySelector('li[data-seq="1"] .reaction[data-emoji="👍"]')?.textContent === "👍 2"`)
	}
	alice.waitFor("alice's marked", `document.querySelector('li[data-seq="1"] .reaction').getAttribute("aria-pressed") === "true"`)
	alice.do("toggle off", chromedp.Click(own))
	for _, p := range []*page{alice, bob} {
		p.waitFor("👍 1 again", `document.querySelector('li[data-seq="1"] .reaction[data-emoji="👍"]')?.textContent === "👍 1"`)
	}
	alice.waitFor("alice's unmarked", `document.querySelector('li[data-seq="1"] .reaction').getAttribute("aria-pressed") === "false"`)

	// A reload recovers the reactions from the store.
	alice.do("reload", chromedp.Reload())
	alice.waitFor("room r back", `document.body.dataset.conn === "open" && document.getElementById("view-title").textContent === "#r"`)
	alice.waitFor("👍 1 after the reload", `document.querySelector('li[data-seq="1"] .reaction[data-emoji="👍"]')?.textContent === "👍 1"
		&& document.querySelector('li[data-seq="1"] .reaction').getAttribute("aria-pressed") === "false"`)

	// The plain client got the texts and nothing of the reactions between.
	alice.say("shipped")
	for _, want := range []string{"ship it?", "shipped"} {
		if got := plain.read(); got != want {
			t.Fatalf("plain client got %q, want %q", got, want)
		}
	}
}
