package server_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// A client that joined an empty room has last 0, and rejoins with since 0:
// every message sent meanwhile must come back.
func TestRecoveryFromAnEmptyRoomReplaysEverythingAfterZero(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: -1})
	early := dialJSON(t, ts, "name=early")
	_, ack := early.joinCollect(`{"type":"join","id":"j","room":"r","history":0}`)
	if ack["last"] != float64(0) || ack["replayed"] != float64(0) || ack["read"] != float64(0) {
		t.Fatalf("join ack of an empty room: %v (want last, replayed and read, all 0)", ack)
	}
	early.ws.CloseNow()

	sender := dialJSON(t, ts, "room=r&name=sender")
	for i := 1; i <= 3; i++ {
		sender.do(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
	}
	back := dialJSON(t, ts, "name=back")
	msgs, ack := back.joinCollect(`{"type":"join","id":"j","room":"r","since":0}`)
	if fmt.Sprint(seqs(msgs)) != "[1 2 3]" || ack["replayed"] != float64(3) || ack["last"] != float64(3) {
		t.Fatalf("since 0 replayed %v, ack %v", seqs(msgs), ack)
	}
	// Joining again replays nothing, and still says where the room stands.
	if _, again := back.joinCollect(`{"type":"join","id":"j2","room":"r","since":0}`); again["last"] != float64(3) || again["replayed"] != float64(0) {
		t.Fatalf("second join ack %v", again)
	}
}

// Lists a reply promises are present even when empty.
func TestRepliesKeepTheirFieldsWhenEmpty(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	c := dialJSON(t, ts, "name=c")
	if ack := c.do(`{"type":"rooms","id":"1"}`); fmt.Sprint(ack["rooms"]) != "[]" {
		t.Fatalf("rooms ack on an empty server: %v", ack)
	}
	c.do(`{"type":"join","room":"r","history":0}`)
	if ack := c.do(`{"type":"history","id":"2","room":"r"}`); fmt.Sprint(ack["messages"]) != "[]" {
		t.Fatalf("history ack of an empty room: %v", ack)
	}
}

// after 0 pages forward from the very first message, not back from the
// newest.
func TestHistoryAfterZeroStartsAtTheOldest(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: -1})
	c := dialJSON(t, ts, "room=r&name=c")
	for i := 1; i <= 12; i++ {
		c.do(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
	}
	ack := c.do(`{"type":"history","room":"r","after":0,"limit":5}`)
	var got []int
	for _, m := range ack["messages"].([]any) {
		got = append(got, int(m.(map[string]any)["seq"].(float64)))
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" || ack["more"] != true {
		t.Fatalf("after 0: %v more=%v", got, ack["more"])
	}
	if r := c.request(`{"type":"history","room":"r","before":5,"after":0}`); r["code"] != "bad_request" {
		t.Fatalf("before with after 0: %v", r)
	}
}
