package server_test

import (
	"net/http"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// While a room's journal is full, the publish API is told to come back and
// a plain client's message waits; once the store catches up, the waiting
// message goes out and the API's retry is stored after it.
func TestABackedUpJournalTellsTheAPIToRetryAndHoldsAPlainClientBack(t *testing.T) {
	const key = "k3y"
	st := holdAppends(t, "slow")
	ts := servertest.Start(t, server.Config{Store: st, StoreBacklog: 1, SendRate: -1, APIKey: key})
	t.Cleanup(st.release)
	member := dialJSON(t, ts, "room=slow&name=member")
	sender := dialJSON(t, ts, "room=slow&name=sender")
	sender.send(`{"type":"send","id":"held","room":"slow","text":"0"}`)
	<-st.entered
	sender.send(`{"type":"send","id":"queued","room":"slow","text":"1"}`) // fills the queue
	// Requests are carried out in order: once this is answered, the send
	// before it is in the journal.
	if r := sender.request(`{"type":"who","id":"who","room":"slow"}`); r["id"] != "who" {
		t.Fatalf("who: %v", r)
	}
	status, reply, h := api(t, ts, "POST", "/api/rooms/slow/messages", key, map[string]any{"text": "3", "client_msg_id": "p3"})
	if status != http.StatusServiceUnavailable || errCode(reply) != "unavailable" || h.Get("Retry-After") != "1" {
		t.Fatalf("post to a backed-up room: %d %v Retry-After %q", status, reply, h.Get("Retry-After"))
	}

	plain := dial(t, ts, "room=slow&name=plain")
	member.expect("presence_diff")
	plain.send("2")
	st.release()
	for i, want := range []string{"0", "1", "2"} {
		if m := member.expect("message"); m["text"] != want || m["seq"] != float64(i+1) {
			t.Fatalf("message %d: %v, want %q", i+1, m, want)
		}
	}
	status, reply, _ = api(t, ts, "POST", "/api/rooms/slow/messages", key, map[string]any{"text": "3", "client_msg_id": "p3"})
	if status != http.StatusCreated || reply["seq"] != float64(4) {
		t.Fatalf("retry once the store caught up: %d %v", status, reply)
	}
}
