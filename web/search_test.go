package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSearchJumpsToTheMessageInContext: a search lists the hits with the
// words marked, and a click on one opens its room at the message, with
// the history back to it loaded and the message highlighted, also when
// it is far older than what the room showed.
func TestSearchJumpsToTheMessageInContext(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	b := newBrowser(t)
	alice := b.newPage(t, "alice")
	bob := b.newPage(t, "bob")
	for _, p := range []*page{alice, bob} {
		p.open(srv)
		p.joinAsGuest(p.name)
	}
	alice.joinRoom("old")
	alice.say("the <b>needle</b> is here")
	// Stored before the hay, the needle is message 1, however late the
	// page sends it.
	alice.waitFor("the needle stored as message 1", `document.querySelector('#messages li[data-seq="1"] .text')?.textContent === "the <b>needle</b> is here"`)
	feeder := dialWS(t, srv, "", "chatd.v1")
	feeder.event("welcome")
	feeder.send(`{"type":"join","id":"j","room":"old"}`)
	feeder.event("ack")
	for i := range 120 {
		feeder.post("old", fmt.Sprintf("hay %d", i))
	}
	alice.waitForText("hay 119")
	bob.joinRoom("elsewhere")

	bob.fill("search-input", "NEEDLE\r") // typed, with Enter
	bob.waitFor("one hit", `document.querySelectorAll('#search-list .hit').length === 1`)
	if got := eval[string](bob, `document.querySelector('#search-list .hit mark').textContent`); got != "needle" {
		t.Fatalf("the marked word is %q", got)
	}
	if got := eval[string](bob, `document.querySelector('#search-list .hit-text').textContent`); got != "the <b>needle</b> is here" {
		t.Fatalf("the hit's text is %q", got)
	}
	if n := eval[int](bob, `document.querySelectorAll('#search-list .hit-text b').length`); n != 0 {
		t.Fatal("a hit's text was rendered as HTML")
	}
	if seq := eval[string](bob, `document.querySelector('#search-list .hit').dataset.seq`); seq != "1" {
		t.Fatalf("the hit is message %s, not 1", seq)
	}
	bob.do("open the hit", chromedp.Click(chromedp.CSS(`#search-list .hit`)))
	bob.waitFor("room old at message 1, highlighted", `document.getElementById("view-title").textContent === "#old"
		&& document.querySelector('#messages li[data-seq="1"]')?.classList.contains("found")`)
	bob.waitFor("the messages after it", `!!document.querySelector('#messages li[data-seq="2"]')`)

	bob.fill("search-input", "absent\r")
	bob.waitFor("nothing found", `document.getElementById("search-status").textContent === "Nothing found."`)
}
