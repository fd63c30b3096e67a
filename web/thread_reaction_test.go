package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestReactingInTheThreadPanel: in the thread panel the React button and
// the reactions of the root and of the replies toggle the user's reaction
// as in the room's view, counted and marked as the user's on every page,
// and a reaction given in the panel shows in the room and the other way
// round.
func TestReactingInTheThreadPanel(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	b := newBrowser(t)
	alice := b.newPage(t, "alice")
	bob := b.newPage(t, "bob")
	for _, p := range []*page{alice, bob} {
		p.open(srv)
		p.joinAsGuest(p.name)
		p.joinRoom("r")
	}
	alice.say("lunch?")
	bob.waitForText("lunch?")
	bob.do("open the thread", chromedp.Click(chromedp.CSS(`#messages li[data-seq="1"] button[data-action="thread"]`)))
	bob.do("reply in the thread", chromedp.SendKeys(chromedp.CSS("#thread-panel textarea"), "where?"), pressEnter(false))
	alice.waitFor("the summary", `!!document.querySelector('#messages li[data-seq="1"] .thread-summary')`)
	alice.do("open the thread", chromedp.Click(chromedp.CSS(`#messages li[data-seq="1"] .thread-summary`)))
	alice.do("reply also to the room", chromedp.Click(chromedp.CSS("#thread-panel .thread-also")),
		chromedp.SendKeys(chromedp.CSS("#thread-panel textarea"), "the usual"), pressEnter(false))
	for _, p := range []*page{alice, bob} {
		p.waitFor("both replies in the panel", `document.querySelector('#thread-panel .thread-replies li[data-seq="3"] .text')?.textContent === "the usual"
			&& !!document.querySelector('#thread-panel .thread-replies li[data-seq="2"]')`)
	}
	reaction := func(where, seq, emoji string) string {
		return `document.querySelector('` + where + ` li[data-seq="` + seq + `"] .reaction[data-emoji="` + emoji + `"]')`
	}
	const replies, rootIn, room = "#thread-panel .thread-replies", "#thread-panel .thread-root", "#messages"
	shows := func(p *page, what, where, seq, emoji, text string, mine bool) {
		t.Helper()
		pressed := "false"
		if mine {
			pressed = "true"
		}
		if text == "" {
			p.waitFor(what, `!`+reaction(where, seq, emoji))
			return
		}
		p.waitFor(what, reaction(where, seq, emoji)+`?.textContent === "`+text+`" && `+reaction(where, seq, emoji)+`.getAttribute("aria-pressed") === "`+pressed+`"`)
	}

	// Alice reacts to the thread-only reply with the panel's picker.
	alice.do("react in the panel", chromedp.Click(chromedp.CSS(replies+` li[data-seq="2"] button[data-action="react"]`)))
	alice.waitFor("the picker in the panel", `!!document.querySelector('`+replies+` li[data-seq="2"] .reaction-picker')`)
	alice.do("pick 👍", chromedp.Click(chromedp.CSS(replies+` li[data-seq="2"] .reaction-picker button[data-emoji="👍"]`)))
	shows(alice, "alice's 👍 1 in her panel", replies, "2", "👍", "👍 1", true)
	shows(bob, "alice's 👍 1 in bob's panel", replies, "2", "👍", "👍 1", false)

	// Bob adds his by clicking it, and takes it back.
	bob.do("toggle on", chromedp.Click(chromedp.CSS(replies+` li[data-seq="2"] .reaction[data-emoji="👍"]`)))
	shows(bob, "👍 2, bob's", replies, "2", "👍", "👍 2", true)
	shows(alice, "👍 2 for alice", replies, "2", "👍", "👍 2", true)
	bob.do("toggle off", chromedp.Click(chromedp.CSS(replies+` li[data-seq="2"] .reaction[data-emoji="👍"]`)))
	shows(bob, "👍 1, not bob's", replies, "2", "👍", "👍 1", false)
	shows(alice, "👍 1 for alice", replies, "2", "👍", "👍 1", true)

	// A reaction to the root in the panel shows in the room, and one taken
	// back in the room leaves the panel.
	alice.do("react to the root in the panel", chromedp.Click(chromedp.CSS(rootIn+` li[data-seq="1"] button[data-action="react"]`)),
		chromedp.Click(chromedp.CSS(rootIn+` li[data-seq="1"] .reaction-picker button[data-emoji="🎉"]`)))
	shows(alice, "🎉 on the root in alice's room", room, "1", "🎉", "🎉 1", true)
	shows(bob, "🎉 on the root in bob's panel", rootIn, "1", "🎉", "🎉 1", false)
	shows(bob, "🎉 on the root in bob's room", room, "1", "🎉", "🎉 1", false)
	alice.do("take it back in the room", chromedp.Click(chromedp.CSS(room+` li[data-seq="1"] .reaction[data-emoji="🎉"]`)))
	shows(alice, "no 🎉 on the root in alice's panel", rootIn, "1", "🎉", "", false)
	shows(bob, "no 🎉 on the root in bob's panel", rootIn, "1", "🎉", "", false)

	// The reply also sent to the room: a reaction in the room shows in the
	// panel, and one taken back in the panel leaves the room.
	// (The panel covers the room's hover actions: a click by script.)
	bob.do("react in the room", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+room+` li[data-seq="3"] button[data-action="react"]').click();
		document.querySelector('`+room+` li[data-seq="3"] .reaction-picker button[data-emoji="❤️"]').click()`))
	shows(bob, "❤️ in bob's panel", replies, "3", "❤️", "❤️ 1", true)
	shows(alice, "❤️ in alice's panel", replies, "3", "❤️", "❤️ 1", false)
	bob.do("take it back in the panel", chromedp.Click(chromedp.CSS(replies+` li[data-seq="3"] .reaction[data-emoji="❤️"]`)))
	shows(bob, "no ❤️ in bob's room", room, "3", "❤️", "", false)
	shows(alice, "no ❤️ in alice's room", room, "3", "❤️", "", false)
}
