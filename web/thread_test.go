package web_test

import (
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestRepliesAndThreadsAcrossTwoPages(t *testing.T) {
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
	carol := dialWS(t, srv, "room=r&name=carol", "chatd.v1")
	alice.waitFor("plain and carol in the member list",
		`!!document.querySelector('#member-list [data-user="plain"]') && !!document.querySelector('#member-list [data-user="carol"]')`)
	alice.say("lunch?")
	bob.waitForText("lunch?")

	// Bob opens the thread by keyboard and replies in it.
	bob.do("reply in thread", chromedp.Evaluate[chromedp.Void](`document.querySelector('#messages li[data-seq="1"] button[data-action="thread"]').focus()`),
		pressKey("Enter", 13, "\r"))
	bob.waitFor("the thread panel, its composer focused", `!document.getElementById("thread-panel").hidden
		&& document.activeElement.matches("#thread-panel textarea")
		&& document.querySelector("#thread-panel .thread-root .text")?.textContent === "lunch?"`)
	bob.do("type a thread reply", chromedp.SendKeys(chromedp.CSS("#thread-panel textarea"), "where?"), pressEnter(false))
	bob.waitFor("the reply in the panel", `document.querySelector('#thread-panel .thread-replies li[data-seq="2"] .text')?.textContent === "where?"`)
	for _, p := range []*page{alice, bob} {
		p.waitFor("1 reply on the root", `document.querySelector('#messages li[data-seq="1"] .thread-summary')?.textContent.startsWith("1 reply · last ")`)
	}
	if shown := eval[bool](alice, `!!document.querySelector('#messages li[data-seq="2"]')`); shown {
		t.Fatal("a thread reply not sent to the room shows in the room")
	}

	// Alice opens it from the summary and answers in the thread and the room.
	alice.do("open the thread", chromedp.Click(chromedp.CSS(`#messages li[data-seq="1"] .thread-summary`)))
	alice.waitFor("bob's reply in alice's panel", `document.querySelector('#thread-panel .thread-replies li[data-seq="2"] .text')?.textContent === "where?"`)
	alice.do("also to the room", chromedp.Click(chromedp.CSS("#thread-panel .thread-also")),
		chromedp.SendKeys(chromedp.CSS("#thread-panel textarea"), "the usual"), pressEnter(false))
	for _, p := range []*page{alice, bob} {
		p.waitFor("2 replies on the root", `document.querySelector('#messages li[data-seq="1"] .thread-summary')?.textContent.startsWith("2 replies · last ")`)
		p.waitFor("the reply also in the room", `document.querySelector('#messages li[data-seq="3"] .text')?.textContent === "the usual"
			&& !!document.querySelector('#messages li[data-seq="3"] .thread-ref')`)
	}
	bob.waitFor("alice's reply in bob's open panel", `document.querySelector('#thread-panel .thread-replies li[data-seq="3"] .text')?.textContent === "the usual"`)

	// A reply quotes the message it answers, as text.
	carol.send(`{"type":"send","id":"1","room":"r","text":"agreed","reply_to":1}`)
	for _, p := range []*page{alice, bob} {
		p.waitFor("the quote", `document.querySelector('#messages li[data-seq="4"] .quote')?.textContent === "alice lunch?"
			&& document.querySelector('#messages li[data-seq="4"] .text').textContent === "agreed"`)
	}

	// Markup in a thread reply and in the quote of it shows as text, in
	// the panel and in the room.
	hostile := `<img src=x onerror="window.__pwned=1"><b>bold?</b>`
	js, err := json.Marshal(hostile)
	if err != nil {
		t.Fatal(err)
	}
	acked := func(id string) {
		// The acks of carol's earlier sends come first.
		for carol.event("ack")["id"] != id {
		}
	}
	carol.send(`{"type":"send","id":"2","room":"r","text":` + string(js) + `,"thread":1,"also_room":true}`)
	acked("2")
	carol.send(`{"type":"send","id":"3","room":"r","text":"quoting","thread":1,"reply_to":5}`)
	acked("3")
	bob.waitFor("the markup as text in the panel", `document.querySelector('#thread-panel .thread-replies li[data-seq="5"] .text')?.textContent === `+string(js)+`
		&& document.querySelector('#thread-panel .thread-replies li[data-seq="6"] .quote')?.textContent === "carol " + `+string(js))
	alice.waitFor("the markup as text in the room", `document.querySelector('#messages li[data-seq="5"] .text')?.textContent === `+string(js))
	for _, p := range []*page{alice, bob} {
		if n := eval[int](p, `document.querySelectorAll("#thread-panel img, #thread-panel b, #messages img, #messages b").length`); n != 0 {
			t.Fatalf("%s: a thread reply made %d elements of its markup", p.name, n)
		}
		if pwned := eval[bool](p, `window.__pwned !== undefined`); pwned {
			t.Fatalf("%s: a thread reply ran script", p.name)
		}
	}

	// Escape closes the panel; a reload recovers the summary and quote.
	bob.do("close", chromedp.Evaluate[chromedp.Void](`document.querySelector("#thread-panel textarea").focus()`), pressKey("Escape", 27, ""))
	bob.waitFor("the panel closed", `document.getElementById("thread-panel").hidden`)
	alice.do("reload", chromedp.Reload())
	alice.waitFor("room r back", `document.body.dataset.conn === "open" && document.getElementById("view-title").textContent === "#r"`)
	alice.waitFor("the summary and quote after the reload", `document.querySelector('#messages li[data-seq="1"] .thread-summary')?.textContent.startsWith("4 replies")
		&& document.querySelector('#messages li[data-seq="4"] .quote')?.textContent === "alice lunch?"
		&& !document.querySelector('#messages li[data-seq="2"]')`)

	// A search hit shown only in its thread opens in the thread's panel.
	bob.fill("search-input", "where\r")
	bob.waitFor("one hit", `document.querySelectorAll('#search-list .hit').length === 1`)
	bob.do("open the hit", chromedp.Click(chromedp.CSS(`#search-list .hit`)))
	bob.waitFor("the reply highlighted in the thread's panel", `!document.getElementById("thread-panel").hidden
		&& document.querySelector('#thread-panel .thread-replies li[data-seq="2"]')?.classList.contains("found")`)

	// Up in the room's composer edits the newest message of one's own that
	// the room shows, not a reply in a thread only.
	alice.do("open the thread again", chromedp.Click(chromedp.CSS(`#messages li[data-seq="1"] .thread-summary`)))
	alice.waitFor("the panel open", `!document.getElementById("thread-panel").hidden`)
	alice.do("a reply in the thread only", chromedp.SendKeys(chromedp.CSS("#thread-panel textarea"), "ok"), pressEnter(false))
	alice.waitFor("the reply in the panel", `document.querySelector('#thread-panel .thread-replies li[data-seq="7"] .text')?.textContent === "ok"`)
	alice.do("Up", chromedp.Evaluate[chromedp.Void](`document.getElementById("input").focus()`), pressKey("ArrowUp", 38, ""))
	alice.waitFor("the editor on alice's reply in the room", `!!document.querySelector('#messages li[data-seq="3"] .edit-input')`)

	// The plain client got every new message's text and nothing else.
	for _, want := range []string{"lunch?", "where?", "the usual", "agreed", hostile, "quoting", "ok"} {
		if got := plain.read(); got != want {
			t.Fatalf("plain client got %q, want %q", got, want)
		}
	}
}
