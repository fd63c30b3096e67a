package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// Messages typed faster than the send rate wait their turn in the page,
// paced by the welcome's limits, instead of being refused and shown as
// failed.
func TestABurstOfMessagesIsPacedNotRefused(t *testing.T) {
	st := servertest.SQLite(t)
	srv := servertest.StartAt(t, server.Config{Store: st, SendRate: 4, SendBurst: 2}, "127.0.0.1:0")
	p := newBrowser(t).newPage(t, "sender")
	p.open(srv)
	p.joinAsGuest("sender")
	p.joinRoom("r")
	const n = 8
	for i := range n { // as fast as the page takes them, not at typing speed
		p.do("send a message", chromedp.Evaluate[chromedp.Void](`document.getElementById("input").value = `+jsString(fmt.Sprint("burst ", i))), pressEnter(false))
	}
	for i := range n {
		p.waitForText(fmt.Sprint("burst ", i))
	}
	if refused := srv.Stats().RequestErrors["rate_limited"]; refused != 0 {
		t.Fatalf("the server refused %d sends as rate_limited; the page did not pace itself", refused)
	}
}
