package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestARoomOfTheLargestMessagesOfMarkupStaysConnectedAndShowsThemAsText(t *testing.T) {
	st := servertest.SQLite(t)
	srv := servertest.Start(t, server.Config{Store: st, SendRate: -1, SendByteRate: -1})

	// Twenty messages of the largest size, all '<': 1.3 MB of history, more
	// than the 1 MiB outbound queue (and 7.8 MB if '<' were HTML-escaped).
	const n = 20
	text := strings.Repeat("<", 64<<10)
	watcher := dialWS(t, srv, "name=watcher&room=big&history=0", "chatd.v1")
	watcher.ws.SetReadLimit(1 << 20)
	watcher.event("welcome")
	seeder := dialWS(t, srv, "name=seeder&room=big") // plain: the frame is the text
	for range n {
		seeder.send(text)
	}
	for range n {
		watcher.event("message")
	}
	accepted := srv.Stats().Accepted

	p := newBrowser(t).newPage(t, "reader")
	p.open(srv)
	p.joinAsGuest("reader")
	p.joinRoom("big")
	p.waitFor("the newest message", fmt.Sprintf(`!!document.querySelector('#messages li[data-seq="%d"]')`, n))
	// Scroll to the top until the first message is there.
	for top := p.messages()[0].Seq; top > 1; top = p.messages()[0].Seq {
		p.do("scroll to the top", chromedp.Evaluate[chromedp.Void](`document.getElementById("scroller").scrollTop = 0`))
		p.waitFor("older messages", fmt.Sprintf(`Number(document.querySelector("#messages li").dataset.seq) < %d`, top))
	}
	msgs := p.messages()
	checkSeqs(t, msgs, n)
	for _, m := range msgs {
		if m.Text != text {
			t.Fatalf("message %d shows %d characters, not the %d '<' sent", m.Seq, len(m.Text), len(text))
		}
	}
	if k := eval[int](p, `document.querySelectorAll("#messages .text *").length`); k != 0 {
		t.Fatalf("the messages made %d elements", k)
	}
	p.waitFor("the connection still open", `document.body.dataset.conn === "open"`)
	st2 := srv.Stats()
	if st2.SlowEvictions != 0 || st2.Accepted != accepted+1 {
		t.Fatalf("the page was evicted %d times and connected %d times", st2.SlowEvictions, st2.Accepted-accepted)
	}
}

func TestTheRoomListShowsEveryPageOfALongList(t *testing.T) {
	// A reply budget of 4 KiB holds about 50 of these rooms.
	srv := servertest.Start(t, server.Config{ReplyBytes: 4 << 10})
	const n = 200
	for i := 0; i < n; i += 100 {
		c := dialWS(t, srv, fmt.Sprint("name=member", i), "chatd.v1")
		c.event("welcome")
		for j := i; j < i+100; j++ {
			c.send(fmt.Sprintf(`{"type":"join","room":"%s-%03d"}`, strings.Repeat("r", 60), j))
			c.event("ack")
		}
	}
	p := newBrowser(t).newPage(t, "reader")
	p.open(srv)
	p.joinAsGuest("reader")
	// lobby, which the page joins, and the 200 rooms.
	p.waitFor("every room listed", fmt.Sprintf(`document.querySelectorAll("#browse-list button[data-room]").length === %d`, n+1))
	if st := srv.Stats(); st.SlowEvictions != 0 {
		t.Fatalf("%d slow-consumer evictions", st.SlowEvictions)
	}
}
