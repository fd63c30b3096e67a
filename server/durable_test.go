package server_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// joinCollect sends a join (or history) request and returns the message
// events that arrived before its reply, and the reply.
func (c *jsonClient) joinCollect(raw string) ([]map[string]any, map[string]any) {
	c.t.Helper()
	c.send(raw)
	return untilReply(c.event)
}

func seqs(msgs []map[string]any) []int {
	out := make([]int, len(msgs))
	for i, m := range msgs {
		out[i] = int(m["seq"].(float64))
	}
	return out
}

func TestMessagesSurviveARestartAndSequencesContinue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	st := servertest.SQLiteAt(t, path)
	ts := servertest.Start(t, server.Config{Store: st})
	a := dialJSON(t, ts, "room=r&name=a")
	for i, text := range []string{"one", "two", "three"} {
		if ack := a.do(fmt.Sprintf(`{"type":"send","room":"r","text":%q}`, text)); ack["seq"] != float64(i+1) {
			t.Fatalf("ack %v", ack)
		}
	}
	ts.Stop(t)
	st.Close()

	ts2 := servertest.Start(t, server.Config{Store: servertest.SQLiteAt(t, path)})
	b := dialJSON(t, ts2, "name=b")
	msgs, ack := b.joinCollect(`{"type":"join","id":"j","room":"r","since":1}`)
	if fmt.Sprint(seqs(msgs)) != "[2 3]" || msgs[0]["text"] != "two" || msgs[1]["from"] != "a" {
		t.Fatalf("replayed %v", msgs)
	}
	if ack["replayed"] != float64(2) || ack["last"] != float64(3) || ack["missing"] != nil {
		t.Fatalf("ack %v", ack)
	}
	c := dialJSON(t, ts2, "room=r&name=c")
	b.expect("presence_diff")
	if ack := c.do(`{"type":"send","room":"r","text":"four"}`); ack["seq"] != float64(4) {
		t.Fatalf("after restart the sequence went on at %v, want 4", ack["seq"])
	}
	if m := b.expect("message"); m["seq"] != float64(4) || m["text"] != "four" {
		t.Fatalf("live message %v", m)
	}
}

func TestRecoveryHasNoGapOrDuplicateAtTheSeam(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: -1})
	sender := dialJSON(t, ts, "room=r&name=sender")
	const total = 300
	sent := make(chan int, total)
	go func() {
		for i := 1; i <= total; i++ {
			sender.request(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
			sent <- i
		}
	}()
	for range 100 { // rejoin, after message 100 was acknowledged, while the room is busy
		<-sent
	}
	r := dialJSON(t, ts, "name=recovering")
	msgs, ack := r.joinCollect(`{"type":"join","room":"r","since":50}`)
	if ack["type"] != "ack" {
		t.Fatalf("join: %v", ack)
	}
	next := 51
	check := func(m map[string]any) {
		if got := int(m["seq"].(float64)); got != next {
			t.Fatalf("got seq %d, want %d (replayed %d)", got, next, len(msgs))
		}
		next++
	}
	for _, m := range msgs {
		check(m)
	}
	for next <= total {
		check(r.expect("message"))
	}
	for range total - 100 { // the sender's last acks
		<-sent
	}
}

func TestHistoryPages(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: -1})
	c := dialJSON(t, ts, "room=r&name=c")
	for i := 1; i <= 30; i++ {
		c.do(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
	}
	page := func(raw string) (string, bool) {
		ack := c.do(raw)
		var got []int
		for _, m := range ack["messages"].([]any) {
			got = append(got, int(m.(map[string]any)["seq"].(float64)))
		}
		return fmt.Sprint(got), ack["more"] == true
	}
	if got, more := page(`{"type":"history","room":"r","limit":5}`); got != "[26 27 28 29 30]" || !more {
		t.Fatalf("latest page %s more=%v", got, more)
	}
	if got, more := page(`{"type":"history","room":"r","before":26,"limit":5}`); got != "[21 22 23 24 25]" || !more {
		t.Fatalf("previous page %s more=%v", got, more)
	}
	if got, more := page(`{"type":"history","room":"r","before":3,"limit":5}`); got != "[1 2]" || more {
		t.Fatalf("first page %s more=%v", got, more)
	}
	if got, _ := page(`{"type":"history","room":"r","after":27}`); got != "[28 29 30]" {
		t.Fatalf("forward page %s", got)
	}
	if r := c.request(`{"type":"history","room":"r","before":5,"after":2}`); r["code"] != "bad_request" {
		t.Fatalf("before and after: %v", r)
	}
	plain := dial(t, ts, "room=r&history=3")
	for _, want := range []string{"28", "29", "30"} {
		if got := plain.read(); got != want {
			t.Fatalf("plain history: got %q, want %q", got, want)
		}
	}
}

func TestRetriedSendIsFoundInTheStoreAfterARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	st := servertest.SQLiteAt(t, path)
	ts := servertest.Start(t, server.Config{Store: st})
	a := dialJSON(t, ts, "room=r&name=a")
	first := a.do(`{"type":"send","room":"r","text":"once","client_msg_id":"m-1"}`)
	ts.Stop(t)
	st.Close()

	ts2 := servertest.Start(t, server.Config{Store: servertest.SQLiteAt(t, path)})
	a2 := dialJSON(t, ts2, "room=r&name=a")
	retry := a2.do(`{"type":"send","room":"r","text":"once","client_msg_id":"m-1"}`)
	if retry["duplicate"] != true || retry["seq"] != first["seq"] {
		t.Fatalf("retry after restart: %v, first %v", retry, first)
	}
}

func TestHistoryWithoutAStoreIsUnavailable(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	c := dialJSON(t, ts, "room=r")
	if r := c.request(`{"type":"history","room":"r"}`); r["code"] != "unavailable" {
		t.Fatalf("history without a store: %v", r)
	}
}

func TestRetentionTrimsAndRecoverySaysSo(t *testing.T) {
	ts := servertest.Start(t, server.Config{
		Store:             servertest.SQLite(t),
		SendRate:          -1,
		RetentionMessages: 3,
		RetentionInterval: 20 * time.Millisecond,
	})
	c := dialJSON(t, ts, "room=r&name=c")
	for i := 1; i <= 10; i++ {
		c.do(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
	}
	servertest.WaitFor(t, "retention", func() bool {
		ack := c.do(`{"type":"history","room":"r","limit":10}`)
		msgs, _ := ack["messages"].([]any)
		return len(msgs) == 3
	})
	late := dialJSON(t, ts, "name=late")
	msgs, ack := late.joinCollect(`{"type":"join","room":"r","since":2}`)
	if fmt.Sprint(seqs(msgs)) != "[8 9 10]" || ack["missing"] != true {
		t.Fatalf("recovery after retention: %v, ack %v", seqs(msgs), ack)
	}
}

func TestJoiningShowsRecentHistoryToJSONClientsOnly(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: -1, JoinHistory: 3})
	c := dialJSON(t, ts, "room=r&name=c")
	for i := 1; i <= 5; i++ {
		c.do(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
	}
	j := dialJSON(t, ts, "name=j")
	if msgs, ack := j.joinCollect(`{"type":"join","room":"r"}`); fmt.Sprint(seqs(msgs)) != "[3 4 5]" || ack["replayed"] != float64(3) {
		t.Fatalf("default join history %v, ack %v", seqs(msgs), ack)
	}
	none := dialJSON(t, ts, "name=none")
	if msgs, _ := none.joinCollect(`{"type":"join","room":"r","history":0}`); len(msgs) != 0 {
		t.Fatalf("history 0 replayed %v", seqs(msgs))
	}
	atConnect := dialJSON(t, ts, "room=r&name=k")
	for want := 3; want <= 5; want++ {
		if m := atConnect.expect("message"); m["seq"] != float64(want) {
			t.Fatalf("join at connect replayed %v, want seq %d", m["seq"], want)
		}
	}
	plain := dial(t, ts, "room=r")
	servertest.WaitFor(t, "plain joined", func() bool { return ts.Stats().Conns == 5 })
	c.do(`{"type":"send","room":"r","text":"live"}`)
	if got := plain.read(); got != "live" {
		t.Fatalf("a plain client without ?history= got %q first, want only live messages", got)
	}
}
