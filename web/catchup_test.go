package web_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
)

// TestACatchUpPacedAndCutOffGoesOnWhereItStopped keeps a page away while
// more messages are stored than one replay and the history pages a fresh
// connection may ask for at once, so that its catch-up is paced with
// rate_limited; the connection is then lost during that wait. The page
// must wait as told rather than stop, and rejoin from where its catch-up
// had got to rather than from the room's last message at the first join,
// and end with every message once, in order.
func TestACatchUpPacedAndCutOffGoesOnWhereItStopped(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "chat.db")
	// Small replies: a page of history holds a few dozen messages.
	start := func(addr string) (*servertest.Server, func()) {
		return startServerWith(t, dir, addr, server.Config{ReplyBytes: 4 << 10})
	}

	srv, stop := start("127.0.0.1:0")
	p := newBrowser(t).newPage(t, "reader")
	p.open(srv)
	p.joinAsGuest("reader")
	p.joinRoom("r")
	p.say("before")
	p.waitForText("before")
	stop()
	p.waitFor("the page to see the server go", `document.body.dataset.conn !== "open"`)

	// Stored while the page is away, far more than a replay and the burst
	// of history pages one connection gets.
	const away = 400
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	last, err := st.LastSeq(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]store.Message, away)
	for i := range msgs {
		msgs[i] = store.Message{Room: "r", Seq: last + 1 + uint64(i), From: "sender", Time: time.Now(),
			Text: fmt.Sprintf("away %03d %s", i+1, strings.Repeat("x", 80))}
	}
	if err := st.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	srv2, stop2 := start(srv.Addr)
	deadline := time.Now().Add(30 * time.Second)
	for srv2.Stats().RequestErrors["rate_limited"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the page's catch-up was never paced; the test needs more messages or smaller pages")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Cut off while it waits to ask for its next page.
	stop2()
	p.waitFor("the page to see the second server go", `document.body.dataset.conn !== "open"`)

	start(srv.Addr)
	p.waitFor("the reconnect", `document.body.dataset.conn === "open"`)
	p.waitForText(fmt.Sprintf("away %03d %s", away, strings.Repeat("x", 80)))
	p.waitFor("every message", fmt.Sprintf(`document.querySelectorAll("#messages li[data-seq]").length >= %d`, away+1))
	checkSeqs(t, p.messages(), away+1)
}
