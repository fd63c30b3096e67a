package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// pressKey presses a key in the focused element: with text ("\r" for
// Enter), a key that types or activates; without, an arrow or Escape.
func pressKey(key string, code int64, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeRawKeyDown, Key: key, Code: key,
			WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code}
		if text != "" {
			down.Type, down.Text = input.DispatchKeyEventTypeKeyDown, text
		}
		up := down
		up.Type, up.Text = input.DispatchKeyEventTypeKeyUp, ""
		for _, ev := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestEditAndDeleteAMessageAcrossTwoPages(t *testing.T) {
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
	alice.say("helo")
	alice.say("second")
	bob.waitForText("second")
	if n := eval[int](bob, `document.querySelectorAll('#messages li[data-seq] .actions :is([data-action="edit"], [data-action="delete"])').length`); n != 0 {
		t.Fatalf("bob is offered %d edits and deletes of alice's messages in a public room", n)
	}

	// By keyboard: Up in the empty composer edits alice's last message,
	// Escape leaves it; Tab reaches the first message's Edit button.
	alice.do("Up", chromedp.Click(chromedp.ID("input")), pressKey("ArrowUp", 38, ""))
	alice.waitFor("the editor on message 2", `document.activeElement.matches('li[data-seq="2"] textarea.edit-input')`)
	alice.do("Escape", pressKey("Escape", 27, ""))
	alice.waitFor("the editor gone", `!document.querySelector('.edit-input') && document.activeElement.id === "input"`)
	alice.do("edit 1", chromedp.Evaluate[chromedp.Void](`document.querySelector('li[data-seq="1"] button[data-action="edit"]').focus()`),
		pressKey("Enter", 13, "\r"))
	alice.waitFor("the editor on message 1", `document.activeElement.matches('li[data-seq="1"] textarea.edit-input')`)
	alice.do("new text", chromedp.Evaluate[chromedp.Void](`document.activeElement.value = "hello <b>there</b>"`), pressEnter(false))
	for _, p := range []*page{alice, bob} {
		p.waitForText("hello <b>there</b>")
		p.waitFor("the edited mark", `!!document.querySelector('li[data-seq="1"] .edited') && !document.querySelector('#messages b')`)
	}

	// By mouse: Delete, then confirm.
	del := chromedp.CSS(`li[data-seq="2"] button[data-action="delete"]`)
	alice.do("delete 2", chromedp.Click(del), chromedp.Click(del))
	for _, p := range []*page{alice, bob} {
		p.waitFor("the tombstone", `document.querySelector('li[data-seq="2"] .text').textContent === "This message was deleted."`)
	}
	// The plain client got the two texts and nothing of the changes.
	for _, want := range []string{"helo", "second"} {
		if got := plain.read(); got != want {
			t.Fatalf("plain client got %q, want %q", got, want)
		}
	}

	// A reload recovers the room from the store in its current state.
	bob.do("reload", chromedp.Reload())
	bob.waitFor("room r back", `document.body.dataset.conn === "open" && document.getElementById("view-title").textContent === "#r"`)
	bob.waitForText("hello <b>there</b>")
	bob.waitFor("the tombstone after the reload", `document.querySelector('li[data-seq="2"] .text').textContent === "This message was deleted."
		&& !!document.querySelector('li[data-seq="1"] .edited') && document.querySelectorAll('#messages li[data-seq]').length === 2`)
}
