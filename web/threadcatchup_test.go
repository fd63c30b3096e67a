package web_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
)

// TestAnOpenThreadGetsTheRepliesOfACatchUp keeps a page with a thread open
// away while more is stored than one replay holds, the thread's replies
// last: they reach the page in its catch-up's history pages, not as
// events, and the open panel must show them as well as the root's count.
func TestAnOpenThreadGetsTheRepliesOfACatchUp(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "chat.db")
	// Small replies: a replay holds a few dozen messages.
	start := func(addr string) (*servertest.Server, func()) {
		return startServerWith(t, dir, addr, server.Config{ReplyBytes: 4 << 10})
	}

	srv, stop := start("127.0.0.1:0")
	p := newBrowser(t).newPage(t, "reader")
	p.open(srv)
	p.joinAsGuest("reader")
	p.joinRoom("r")
	p.say("root")
	p.waitForText("root")
	p.do("reply in thread", chromedp.Evaluate[chromedp.Void](`document.querySelector('#messages li[data-seq="1"] button[data-action="thread"]').focus()`),
		pressKey("Enter", 13, "\r"))
	p.waitFor("the thread panel", `!document.getElementById("thread-panel").hidden
		&& document.querySelector("#thread-panel .thread-root .text")?.textContent === "root"`)
	stop()
	p.waitFor("the page to see the server go", `document.body.dataset.conn !== "open"`)

	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	const away, replies = 200, 3
	msgs := make([]store.Message, away+replies)
	for i := range msgs {
		msgs[i] = store.Message{Room: "r", Seq: 2 + uint64(i), From: "sender", Time: time.Now(),
			Text: fmt.Sprintf("away %03d %s", i+1, strings.Repeat("x", 80))}
		if i >= away {
			msgs[i].Thread = 1
			msgs[i].Text = fmt.Sprintf("late reply %d", i-away+1)
		}
	}
	if err := st.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	start(srv.Addr)
	p.waitFor("the caught-up replies in the open panel", fmt.Sprintf(`document.querySelectorAll("#thread-panel .thread-replies li[data-seq]").length === %d
		&& document.querySelector('#thread-panel .thread-replies li[data-seq="%d"] .text')?.textContent === "late reply %d"`, replies, away+replies+1, replies))
	p.waitFor("the root's count in the room", fmt.Sprintf(`document.querySelector('#messages li[data-seq="1"] .thread-summary')?.textContent.startsWith("%d replies")`, replies))
}
