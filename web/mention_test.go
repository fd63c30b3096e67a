package web_test

import (
	"context"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// watchNotifications makes the page record, from its first script on,
// each request for the permission to notify and each notification it
// creates, in window.asked and window.notes; both still reach the
// browser's own Notification.
const watchNotifications = `(() => {
	window.asked = 0;
	window.notes = [];
	if (typeof Notification !== "function") return;
	const Real = Notification;
	window.Notification = new Proxy(Real, {
		construct(target, args) {
			window.notes.push(String(args[0]));
			return Reflect.construct(target, args);
		},
		get(target, prop) {
			if (prop === "requestPermission") return (...a) => { window.asked++; return target.requestPermission(...a); };
			return Reflect.get(target, prop);
		},
	});
})();`

func (p *page) watchNotifications() {
	p.t.Helper()
	p.do("watch notifications", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: watchNotifications})
		return err
	}))
}

// grantNotifications allows the page's origin to notify, as a user who
// answered the browser's prompt would.
func (p *page) grantNotifications(origin string) {
	p.t.Helper()
	c := chromedp.FromContext(p.ctx)
	p.do("grant notifications", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := cdp.Call(ctx, c.Browser, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted,
			Origin: origin, BrowserContextID: c.BrowserContextID})
		return err
	}))
}

func TestMentionsAcrossTwoPages(t *testing.T) {
	srv := startAccountServer(t, nil)
	b := newBrowser(t)
	alice, bob := b.newPage(t, "alice"), b.newPage(t, "bob")
	bob.watchNotifications()
	for _, p := range []*page{alice, bob} {
		p.open(srv)
		p.register(p.name, "password of "+p.name)
		p.joinRoom("r")
	}
	bob.joinRoom("elsewhere")
	alice.waitFor("bob in r", `!!document.querySelector('#member-list [data-user="bob"]')`)

	// Nothing asked on load: the button asks, and is there to be clicked.
	if asked := eval[int](bob, `window.asked`); asked != 0 {
		t.Fatalf("the page asked for the permission to notify %d times on load", asked)
	}
	bob.waitFor("the notify button", `!document.getElementById("notify-button").hidden`)

	// A mention in a room bob is not looking at: a badge on the room.
	alice.say("hi @bob, see this")
	bob.waitFor("the mention badge on r", `document.querySelector('#room-list [data-room="r"] .mention-badge')?.textContent === "@1"`)
	if n := eval[int](bob, `document.querySelectorAll('#room-list [data-room="elsewhere"] .mention-badge').length`); n != 0 {
		t.Fatalf("a mention badge on a room without mentions")
	}
	// Opening the room shows the message marked, and reads the mention.
	bob.do("open r", chromedp.Click(chromedp.CSS(`#room-list [data-room="r"]`)))
	bob.waitFor("the message marked", `document.querySelector('#messages li[data-seq="1"]')?.classList.contains("mentioned")`)
	bob.waitFor("the badge gone", `!document.querySelector('#room-list [data-room="r"] .mention-badge')`)
	alice.waitForText("hi @bob, see this")
	if marked := eval[bool](alice, `document.querySelector('#messages li[data-seq="1"]').classList.contains("mentioned")`); marked {
		t.Fatal("alice's own message is marked as mentioning her")
	}

	// The mentions list has it, and survives a reload with the badge gone.
	bob.do("open the mentions", chromedp.Click(chromedp.CSS(`#mentions summary`)))
	bob.waitFor("the mention listed", `document.querySelector('#mention-list .mention-item[data-room="r"][data-seq="1"] .mention-text')?.textContent === "hi @bob, see this"`)

	// With the permission (granted from CDP, as the browser's prompt
	// would) and the tab hidden, a mention and a direct message notify.
	bob.grantNotifications("http://" + srv.Addr)
	bob.do("hide the tab", chromedp.Evaluate[chromedp.Void](`Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true })`))
	alice.say("@Bob: again")
	bob.waitFor("a mention notification", `window.notes.includes("alice mentioned you in #r")`)
	alice.do("open a DM", chromedp.SendKeys(chromedp.ID("dm-name"), "bob"), chromedp.Click(chromedp.ID("dm-button")))
	alice.say("psst")
	bob.waitFor("a DM notification", `window.notes.includes("alice sent you a message")`)
	if asked := eval[int](bob, `window.asked`); asked != 0 {
		t.Fatalf("the page asked for the permission %d times, with nobody clicking", asked)
	}
}

// TestAMentionTakenBackLeavesTheBadge: a message that mentioned bob,
// deleted before he read it, and another edited not to name him, take
// their mentions off his badge, on the page and after a reload, and out
// of his open mentions list.
func TestAMentionTakenBackLeavesTheBadge(t *testing.T) {
	srv := startAccountServer(t, nil)
	b := newBrowser(t)
	alice, bob := b.newPage(t, "alice"), b.newPage(t, "bob")
	for _, p := range []*page{alice, bob} {
		p.open(srv)
		p.register(p.name, "password of "+p.name)
		p.joinRoom("r")
	}
	bob.joinRoom("elsewhere")
	alice.waitFor("bob in r", `!!document.querySelector('#member-list [data-user="bob"]')`)
	badge := `document.querySelector('#room-list [data-room="r"] .mention-badge')?.textContent`
	for _, text := range []string{"@bob one", "@bob two", "@bob three"} {
		alice.say(text)
		alice.waitForText(text)
	}
	bob.waitFor("three mentions", badge+` === "@3"`)
	bob.do("open the mentions", chromedp.Click(chromedp.CSS(`#mentions summary`)))
	bob.waitFor("three listed", `document.querySelectorAll('#mention-list .mention-item').length === 3`)

	alice.do("delete one", chromedp.Evaluate[chromedp.Void](`document.querySelector('#messages li[data-seq="1"] button[data-action="delete"]').click();
		document.querySelector('#messages li[data-seq="1"] button[data-action="delete"]').click()`))
	bob.waitFor("two mentions", badge+` === "@2"`)
	bob.waitFor("two listed, the deleted one gone", `document.querySelectorAll('#mention-list .mention-item').length === 2
		&& !document.querySelector('#mention-list .mention-item[data-seq="1"]')`)
	alice.do("edit two", chromedp.Evaluate[chromedp.Void](`document.querySelector('#messages li[data-seq="2"] button[data-action="edit"]').focus()`),
		pressKey("Enter", 13, "\r"))
	alice.waitFor("the editor on message 2", `document.activeElement.matches('li[data-seq="2"] textarea.edit-input')`)
	alice.do("take the name out", chromedp.Evaluate[chromedp.Void](`document.activeElement.value = "two, for nobody"`), pressEnter(false))
	bob.waitFor("one mention", badge+` === "@1"`)
	bob.waitFor("one listed", `document.querySelectorAll('#mention-list .mention-item').length === 1
		&& !!document.querySelector('#mention-list .mention-item[data-seq="3"]')`)

	bob.do("reload", chromedp.Reload())
	bob.waitFor("back", `document.body.dataset.conn === "open"`)
	bob.waitFor("one mention after the reload", badge+` === "@1"`)
}
