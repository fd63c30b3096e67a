package web_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestTwoPagesAndAPlainClientChatInOneRoom(t *testing.T) {
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

	alice.say("hello from alice")
	bob.waitForText("hello from alice")
	if got := plain.read(); got != "hello from alice" {
		t.Fatalf("plain client got %q", got)
	}

	plain.send("hi from a plain client")
	alice.waitForText("hi from a plain client")
	bob.waitForText("hi from a plain client")

	bob.do("type", chromedp.SendKeys(chromedp.ID("input"), "bob here"))
	alice.waitFor("bob typing", `document.getElementById("typing").textContent === "bob is typing…"`)
	bob.do("send", pressEnter(false))
	alice.waitForText("bob here")
	alice.waitFor("the typing hint gone", `document.getElementById("typing").textContent === ""`)
	if got := plain.read(); got != "bob here" {
		t.Fatalf("plain client got %q", got)
	}

	// A line break with Shift+Enter; Enter sends.
	alice.do("write two lines", chromedp.SendKeys(chromedp.ID("input"), "line one"), pressEnter(true),
		chromedp.SendKeys(chromedp.ID("input"), "line two"), pressEnter(false))
	bob.waitForText("line one\nline two")
	if got := plain.read(); got != "line one\nline two" {
		t.Fatalf("plain client got %q", got)
	}

	want := []shown{
		{Seq: 1, From: "alice", Text: "hello from alice"},
		{Seq: 2, From: "plain", Text: "hi from a plain client"},
		{Seq: 3, From: "bob", Text: "bob here"},
		{Seq: 4, From: "alice", Text: "line one\nline two"},
	}
	for _, p := range []*page{alice, bob} {
		got := p.messages()
		if len(got) != len(want) {
			t.Fatalf("page %s shows %+v", p.name, got)
		}
		for i, m := range got {
			w := want[i]
			if m.Seq != w.Seq || m.From != w.From || m.Text != w.Text || m.Time == "" || m.Mine != (w.From == p.name) {
				t.Errorf("page %s, message %d: %+v, want %+v (mine %v)", p.name, i, m, w, w.From == p.name)
			}
		}
	}

	// A reload keeps the guest's name, rooms and the room's history.
	bob.do("reload", chromedp.Reload())
	bob.waitFor("bob back", `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent === "bob"`)
	bob.waitFor("room r back", `document.getElementById("view-title").textContent === "#r"`)
	bob.waitForText("line one\nline two")
	if got := bob.messages(); len(got) != len(want) {
		t.Fatalf("after the reload bob's page shows %+v", got)
	}
}

func TestALargeRoomsMemberListShowsTheFirstNamesAndCountsTheRest(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	var in []*wsClient
	for i := range 100 {
		c := dialWS(t, srv, fmt.Sprintf("name=u%03d&room=big", i), "chatd.v1")
		c.event("welcome")
		in = append(in, c)
	}
	b := newBrowser(t)
	zed := b.newPage(t, "zed")
	zed.open(srv)
	zed.joinAsGuest("zed")
	zed.joinRoom("big")
	// The join lists the first 100 of 101 users: zed is counted, not named.
	zed.waitFor("100 names and one more", `document.querySelectorAll("#member-list li.member").length === 100 && document.querySelector("#member-list .member-more")?.textContent === "and 1 more online"`)

	// Presence diffs keep the sample and the count: u050 leaves, aaa comes.
	in[50].ws.CloseNow()
	dialWS(t, srv, "name=aaa&room=big", "chatd.v1").event("welcome")
	zed.waitFor("aaa in place of u050", `!!document.querySelector('#member-list [data-user="aaa"]') && !document.querySelector('#member-list [data-user="u050"]') && document.querySelectorAll("#member-list li.member").length === 100 && document.querySelector("#member-list .member-more")?.textContent === "and 1 more online"`)
}

func TestDirectMessagesAndUnreadCounts(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	b := newBrowser(t)
	alice := b.newPage(t, "alice")
	bob := b.newPage(t, "bob")
	for _, p := range []*page{alice, bob} {
		p.open(srv)
		p.joinAsGuest(p.name)
		p.joinRoom("r")
	}
	carol := dialWS(t, srv, "name=carol&room=lobby", "chatd.v1")
	carol.event("welcome")

	// A message in a room bob is not looking at counts as unread there,
	// until he opens it.
	carol.post("lobby", "anyone in the lobby?")
	bob.waitFor("an unread count on lobby", `document.querySelector('#room-list [data-room="lobby"] .badge')?.textContent === "1"`)
	if eval[bool](bob, `!!document.querySelector('#room-list [data-room="r"] .badge')`) {
		t.Fatal("the room bob is reading shows unread messages")
	}
	bob.do("open lobby", chromedp.Click(chromedp.CSS(`#room-list [data-room="lobby"]`)))
	bob.waitForText("anyone in the lobby?")
	bob.waitFor("the count gone", `!document.querySelector('#room-list [data-room="lobby"] .badge')`)

	// Leaving takes the room off the list; the others see bob go.
	bob.do("leave lobby", chromedp.Click(chromedp.ID("leave-button")))
	bob.waitFor("lobby gone", `!document.querySelector('#room-list [data-room="lobby"]') && document.getElementById("view-title").textContent === "#r"`)
	// bob's join may still have been pending when he left, in which case
	// carol hears of neither; what must hold is that the room no longer
	// lists him.
	for deadline := time.Now().Add(waitTimeout); ; {
		carol.send(`{"type":"who","id":"w","room":"lobby"}`)
		ack := carol.event("ack")
		if members, _ := ack["members"].([]any); !slices.Contains(members, any("bob")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carol's who still lists bob: %v", ack)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Alice writes to bob from the member list.
	alice.do("open a conversation with bob", chromedp.Click(chromedp.CSS(`#member-list [data-user="bob"] button.member-name`)))
	alice.waitFor("the conversation", `document.getElementById("view-title").textContent === "@bob"`)
	alice.say("psst, bob")
	alice.waitFor("the message delivered", `[...document.querySelectorAll("#messages li .text")].some(e => e.textContent === "psst, bob") && !document.querySelector("#outbox li")`)
	bob.waitFor("an unread conversation", `document.querySelector('#dm-list [data-dm="alice"] .badge')?.textContent === "1"`)
	bob.do("open it", chromedp.Click(chromedp.CSS(`#dm-list [data-dm="alice"]`)))
	bob.waitFor("the direct message", `[...document.querySelectorAll("#messages li .text")].some(e => e.textContent === "psst, bob")`)
	bob.say("hi alice")
	alice.waitFor("the answer", `[...document.querySelectorAll("#messages li .text")].some(e => e.textContent === "hi alice")`)

	// Nobody called dave is here: the message fails, visibly.
	alice.do("write to dave", chromedp.SendKeys(chromedp.ID("dm-name"), "dave"), chromedp.Click(chromedp.ID("dm-button")))
	alice.waitFor("the conversation with dave", `document.getElementById("view-title").textContent === "@dave"`)
	alice.say("are you there?")
	alice.waitFor("the failure", `document.querySelector("#outbox li.failed .status")?.textContent.includes("dave is not connected")`)
}

func TestAGuestNameInUseIsRefusedWithAReason(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	dialWS(t, srv, "name=taken", "chatd.v1").event("welcome")
	p := newBrowser(t).newPage(t, "guest")
	p.open(srv)
	p.do("sign in as a held name", chromedp.SendKeys(chromedp.ID("guest-name"), "taken"), chromedp.Click(chromedp.ID("guest-button")))
	p.waitFor("the refusal", `!document.getElementById("login").hidden && document.getElementById("login-notice").textContent.includes("someone else is using it")`)
	p.fill("guest-name", "")
	p.do("continue as any guest", chromedp.Click(chromedp.ID("guest-button")))
	p.waitFor("a guest name", `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent.startsWith("guest-")`)
}

func TestPhoneSizedScreen(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	p := newBrowser(t).newPage(t, "phone")
	p.do("emulate a phone", chromedp.EmulateViewport(390, 760, chromedp.EmulateMobile))
	p.open(srv)
	p.joinAsGuest("phone")
	visible := func(id string) bool {
		return eval[bool](p, `getComputedStyle(document.getElementById("`+id+`")).display !== "none"`)
	}
	if visible("sidebar") || visible("members") {
		t.Fatal("on a phone the room list and members hide behind buttons")
	}
	if width := eval[float64](p, `document.getElementById("scroller").getBoundingClientRect().width`); width < 380 {
		t.Fatalf("the messages are %vpx wide on a 390px screen", width)
	}
	p.do("open the room list", chromedp.Click(chromedp.ID("toggle-sidebar")))
	if !visible("sidebar") || eval[string](p, `document.getElementById("toggle-sidebar").getAttribute("aria-expanded")`) != "true" {
		t.Fatal("the menu button does not open the room list")
	}
	p.joinRoom("r")
	if visible("sidebar") {
		t.Fatal("choosing a room leaves the room list over the messages")
	}
	p.say("typed on a phone")
	p.waitForText("typed on a phone")
	if overflow := eval[bool](p, `document.documentElement.scrollWidth > innerWidth`); overflow {
		t.Fatal("the page scrolls sideways on a phone")
	}
}

func TestHistoryOnJoinAndOlderMessagesOnScrollUp(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	seeder := dialWS(t, srv, "name=seeder&room=h", "chatd.v1")
	seeder.event("welcome")
	const total = 200
	for i := 1; i <= total; i++ {
		seeder.post("h", fmt.Sprintf("message %d", i))
	}

	p := newBrowser(t).newPage(t, "reader")
	p.open(srv)
	p.joinAsGuest("reader")
	p.joinRoom("h")
	p.waitFor("the newest message", `!!document.querySelector('#messages li[data-seq="200"]')`)
	first := p.messages()
	if len(first) == 0 || len(first) >= total || first[len(first)-1].Seq != total {
		t.Fatalf("on join the page shows %d messages, up to %+v; want the newest page of them", len(first), first[len(first)-1])
	}
	if !eval[bool](p, `(() => { const sc = document.getElementById("scroller"); return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 2 })()`) {
		t.Fatal("the view does not start at the newest message")
	}

	// Scroll to the top until the first message is there; each page of
	// older messages must leave the message that was at the top in place.
	for top := first[0].Seq; top > 1; {
		before := eval[float64](p, fmt.Sprintf(`(() => {
			document.getElementById("scroller").scrollTop = 0;
			return document.querySelector('#messages li[data-seq="%d"]').getBoundingClientRect().top })()`, top))
		p.waitFor("older messages", fmt.Sprintf(`Number(document.querySelector("#messages li").dataset.seq) < %d`, top))
		after := eval[float64](p, fmt.Sprintf(`document.querySelector('#messages li[data-seq="%d"]').getBoundingClientRect().top`, top))
		if math.Abs(after-before) > 1 {
			t.Fatalf("loading messages before %d moved it on screen from y=%v to y=%v", top, before, after)
		}
		top = p.messages()[0].Seq
	}
	p.waitFor("the beginning of the room", `document.getElementById("history-state").textContent.includes("beginning")`)
	checkSeqs(t, p.messages(), total)
	for i, m := range p.messages() {
		if want := fmt.Sprintf("message %d", i+1); m.Text != want || m.From != "seeder" {
			t.Fatalf("message %d: %+v", i+1, m)
		}
	}

	// Scrolled up, a new message does not pull the view down; a button
	// offers to go there.
	before := eval[float64](p, `document.getElementById("scroller").scrollTop`)
	seeder.post("h", "a new one")
	p.waitForText("a new one")
	p.waitFor("the new-messages button", `!document.getElementById("new-messages").hidden`)
	if after := eval[float64](p, `document.getElementById("scroller").scrollTop`); after != before {
		t.Fatalf("a new message scrolled the reader from %v to %v", before, after)
	}
	p.do("follow the button", chromedp.Click(chromedp.ID("new-messages")))
	p.waitFor("the bottom", `(() => { const sc = document.getElementById("scroller"); return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 2 })()`)
	p.waitFor("the button gone", `document.getElementById("new-messages").hidden`)
}

// checkSeqs checks that msgs are the messages 1..n, each once, in order.
func checkSeqs(t *testing.T, msgs []shown, n int) {
	t.Helper()
	seqs := make([]int, len(msgs))
	for i, m := range msgs {
		seqs[i] = m.Seq
	}
	if len(seqs) != n {
		t.Fatalf("the page shows %d messages, want %d: %v", len(seqs), n, seqs)
	}
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("the page shows seqs %v, want 1..%d each once in order", seqs, n)
		}
	}
}

func TestMarkupInMessagesIsShownAsText(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	p := newBrowser(t).newPage(t, "reader")
	p.open(srv)
	p.joinAsGuest("reader")
	p.joinRoom("x")
	plain := dialWS(t, srv, "room=x&name=mallory")
	hostile := []string{
		`<img src=x onerror="window.__pwned=1">`,
		`<script>window.__pwned=1</script>`,
		`<a href="javascript:window.__pwned=1">click me</a> javascript:window.__pwned=1`,
		`<svg onload="window.__pwned=1"></svg><iframe src="javascript:window.__pwned=1"></iframe>`,
	}
	for _, s := range hostile {
		plain.send(s)
	}
	typed := `<b onmouseover="window.__pwned=1">bold?</b> read https://example.com/docs.`
	p.say(typed)
	for _, s := range append(hostile, typed) {
		p.waitForText(s)
	}
	if got := p.messages(); len(got) != len(hostile)+1 {
		t.Fatalf("the page shows %+v", got)
	}
	if pwned := eval[bool](p, `window.__pwned !== undefined`); pwned {
		t.Fatal("a message ran script")
	}
	if n := eval[int](p, `document.querySelectorAll("#messages img, #messages script, #messages svg, #messages iframe, #messages b").length`); n != 0 {
		t.Fatalf("messages made %d elements of their markup", n)
	}
	// Bidirectional overrides are shown, not obeyed.
	plain.send("invoice\u202egnp.exe and \u2066isolated\u2069")
	p.waitForText("invoice[U+202E]gnp.exe and [U+2066]isolated[U+2069]")
	type link struct{ Href, Rel, Target, Text string }
	links := eval[[]link](p, `[...document.querySelectorAll("#messages a")].map(a => ({href: a.href, rel: a.rel, target: a.target, text: a.textContent}))`)
	if len(links) != 1 || links[0] != (link{"https://example.com/docs", "noopener noreferrer", "_blank", "https://example.com/docs"}) {
		t.Fatalf("links %+v; want only the https one, opening safely", links)
	}
}

func TestReconnectsAfterARestartWithNothingLostOrRepeated(t *testing.T) {
	dir := t.TempDir()
	srv, stop := startServer(t, dir, "127.0.0.1:0")
	p := newBrowser(t).newPage(t, "reader")
	p.open(srv)
	p.joinAsGuest("reader")
	p.joinRoom("r")
	sender := dialWS(t, srv, "name=sender&room=r", "chatd.v1")
	sender.event("welcome")
	var want []string
	post := func(c *wsClient, text string) {
		c.post("r", text)
		want = append(want, text)
	}
	for i := 1; i <= 5; i++ {
		post(sender, fmt.Sprintf("before %d", i))
	}
	p.say("from the page")
	want = append(want, "from the page")
	p.waitForText("from the page")
	p.waitForText("before 5")

	// The sender's library answers the server's close only while reading;
	// it goes first, so that the shutdown does not wait for it.
	sender.ws.CloseNow()
	stop()
	p.waitFor("the page to see the server go", `document.body.dataset.conn !== "open"`)
	p.say("written while offline")
	p.waitFor("the offline message pending", `[...document.querySelectorAll("#outbox li.pending .text")].some(e => e.textContent === "written while offline")`)

	srv2, _ := startServer(t, dir, srv.Addr)
	sender2 := dialWS(t, srv2, "name=sender&room=r", "chatd.v1")
	sender2.event("welcome")
	sender2.send(`{"type":"join","id":"j","room":"r","history":0}`)
	sender2.event("ack")
	for i := 1; i <= 10; i++ {
		post(sender2, fmt.Sprintf("after %d", i))
	}
	p.waitFor("the reconnect", `document.body.dataset.conn === "open"`)
	p.waitForText("written while offline")
	want = append(want, "written while offline")
	for i := 1; i <= 3; i++ {
		post(sender2, fmt.Sprintf("live %d", i))
	}
	p.waitForText("live 3")
	p.waitFor("the outbox to empty", `document.querySelectorAll("#outbox li").length === 0`)

	got := p.messages()
	checkSeqs(t, got, len(want))
	count := make(map[string]int)
	for _, m := range got {
		count[m.Text]++
	}
	for _, w := range want {
		if count[w] != 1 {
			t.Errorf("%q shown %d times, want once", w, count[w])
		}
	}
}

func TestAGeneratedGuestNameSurvivesAReload(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), "127.0.0.1:0")
	p := newBrowser(t).newPage(t, "guest")
	p.open(srv)
	p.do("continue as a guest without a name",
		chromedp.WaitVisible(chromedp.ID("guest-name")),
		chromedp.Click(chromedp.ID("guest-button")),
	)
	p.waitFor("a guest name", `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent.startsWith("guest-")`)
	name := eval[string](p, `document.getElementById("me-name").textContent`)
	p.do("reload", chromedp.Reload())
	p.waitFor("the same name back", `document.body.dataset.conn === "open" && document.getElementById("me-name").textContent === `+jsString(name))
}
