package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
)

// TestEditAndDeleteRequests: who may change which message, and the codes
// of the refusals. Each case runs against a fresh room holding alice's
// message 1, bob's message 2 and alice's message 3, deleted as message 4.
func TestEditAndDeleteRequests(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.RequestRate, c.SendRate = -1, -1 })
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	cases := []struct {
		name    string
		who     string // alice, bob or an outsider
		private bool   // the room is alice's private room
		req     string // room and id are added
		code    string // "" for an ack
	}{
		{"the author edits", "alice", false, `"type":"edit","target":1,"text":"fixed"`, ""},
		{"the author deletes", "alice", false, `"type":"delete","target":1`, ""},
		{"an edit to empty text", "alice", false, `"type":"edit","target":1,"text":""`, ""},
		{"another user edits", "bob", false, `"type":"edit","target":1,"text":"mine now"`, "forbidden"},
		{"another user deletes", "bob", false, `"type":"delete","target":1`, "forbidden"},
		{"the private room's owner deletes another's message", "alice", true, `"type":"delete","target":2`, ""},
		{"the private room's owner edits another's message", "alice", true, `"type":"edit","target":2,"text":"x"`, "forbidden"},
		{"a user who is no owner deletes another's message in a public room", "alice", false, `"type":"delete","target":2`, "forbidden"},
		{"a member of a private room deletes the owner's message", "bob", true, `"type":"delete","target":1`, "forbidden"},
		{"a missing message", "alice", false, `"type":"edit","target":99,"text":"x"`, "not_found"},
		{"a deleted message is edited", "alice", false, `"type":"edit","target":3,"text":"x"`, "not_found"},
		{"a deleted message is deleted", "alice", false, `"type":"delete","target":3`, "not_found"},
		{"a change is changed", "alice", false, `"type":"delete","target":4`, "not_found"},
		{"no target", "alice", false, `"type":"delete"`, "bad_request"},
		{"an edit without text", "alice", false, `"type":"edit","target":1`, "bad_request"},
		{"a room not joined", "outsider", false, `"type":"delete","target":1`, "not_member"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			room := fmt.Sprintf("r%d", i)
			if tc.private {
				alice.do(fmt.Sprintf(`{"type":"create","id":"c","room":%q,"private":true}`, room))
				alice.do(fmt.Sprintf(`{"type":"invite","id":"i","room":%q,"to":"bob"}`, room))
			}
			alice.do(fmt.Sprintf(`{"type":"join","id":"j","room":%q}`, room))
			bob.do(fmt.Sprintf(`{"type":"join","id":"j","room":%q}`, room))
			alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":"one"}`, room))
			bob.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":"two"}`, room))
			alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":"three"}`, room))
			alice.do(fmt.Sprintf(`{"type":"delete","id":"d","room":%q,"target":3}`, room))
			c := map[string]*jsonClient{"alice": alice, "bob": bob}[tc.who]
			if c == nil {
				c = dialJSON(t, ts, "name=outsider")
			}
			r := c.request(fmt.Sprintf(`{"id":"x","room":%q,%s}`, room, tc.req))
			switch {
			case tc.code == "" && (r["type"] != "ack" || r["seq"] != float64(5)):
				t.Fatalf("%s: %v, want an ack with seq 5", tc.req, r)
			case tc.code != "" && r["code"] != tc.code:
				t.Fatalf("%s: %v, want error %s", tc.req, r, tc.code)
			}
		})
	}
}

// TestChangesReachEveryoneAndRecoveryConverges: the members of a room
// receive an edit and a delete as events of the sequence; a client that
// recovers with since, or pages the history, ends in the same state; the
// deleted text is gone from the store; and a plain-text client receives
// the texts of new messages and nothing else.
func TestChangesReachEveryoneAndRecoveryConverges(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   func(t *testing.T) store.Store
	}{
		{"SQLite", func(t *testing.T) store.Store { return servertest.SQLite(t) }},
		{"PostgreSQL", func(t *testing.T) store.Store { st, _ := postgresSchema(t); return st }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st(t)
			ts := servertest.Start(t, server.Config{Store: st})
			alice := dialJSON(t, ts, "room=r&name=alice")
			online := dialJSON(t, ts, "room=r&name=online")
			plain := dial(t, ts, "room=r&name=plain")
			alice.expect("presence_diff")

			alice.do(`{"type":"send","id":"1","room":"r","text":"helo"}`)
			alice.do(`{"type":"send","id":"2","room":"r","text":"a secret"}`)
			edit := alice.do(`{"type":"edit","id":"3","room":"r","target":1,"text":"hello","client_msg_id":"e1"}`)
			alice.do(`{"type":"delete","id":"4","room":"r","target":2}`)
			alice.do(`{"type":"send","id":"5","room":"r","text":"bye"}`)
			if edit["seq"] != float64(3) || edit["request"] != "edit" {
				t.Fatalf("edit ack %v", edit)
			}
			// A retry of the edit is answered as a duplicate, not applied twice.
			if again := alice.do(`{"type":"edit","id":"3","room":"r","target":1,"text":"hello","client_msg_id":"e1"}`); again["seq"] != float64(3) || again["duplicate"] != true {
				t.Fatalf("a repeated edit: %v", again)
			}

			var live []map[string]any
			for len(live) < 5 {
				ev := online.event()
				switch ev["type"] {
				case "message", "edit", "delete":
					live = append(live, ev)
				}
			}
			if live[2]["type"] != "edit" || live[2]["target"] != float64(1) || live[2]["text"] != "hello" || live[2]["from"] != "alice" ||
				live[3]["type"] != "delete" || live[3]["target"] != float64(2) || live[3]["seq"] != float64(4) {
				t.Fatalf("live events %v", live)
			}
			for _, want := range []string{"helo", "a secret", "bye"} {
				if got := plain.read(); got != want {
					t.Fatalf("the plain-text client read %q, want %q", got, want)
				}
			}
			plain.expectSilence(100 * 1e6)

			state := func(events []map[string]any) string {
				text := map[float64]string{}
				var order []float64
				for _, ev := range events {
					switch ev["type"] {
					case "message":
						if _, ok := text[ev["seq"].(float64)]; !ok {
							order = append(order, ev["seq"].(float64))
						}
						text[ev["seq"].(float64)] = ev["text"].(string)
						if ev["deleted"] == true {
							text[ev["seq"].(float64)] = "(deleted)"
						}
					case "edit":
						if text[ev["target"].(float64)] != "(deleted)" {
							text[ev["target"].(float64)] = ev["text"].(string) + " (edited)"
						}
					case "delete":
						text[ev["target"].(float64)] = "(deleted)"
					}
				}
				var b strings.Builder
				for _, seq := range order {
					fmt.Fprintf(&b, "%v:%s;", seq, text[seq])
				}
				return b.String()
			}
			want := state(live)
			if want != "1:hello (edited);2:(deleted);5:bye;" {
				t.Fatalf("online state %s", want)
			}

			rec := dialJSON(t, ts, "name=rec")
			replayed, ack := rec.joinCollectAll(`{"type":"join","id":"j","room":"r","since":0}`)
			if ack["type"] != "ack" || len(replayed) != 5 {
				t.Fatalf("recovery: %v, %v", replayed, ack)
			}
			if got := state(replayed); got != want {
				t.Fatalf("recovered state %s, online %s", got, want)
			}
			if replayed[0]["edited"] == nil || replayed[1]["deleted"] != true || replayed[1]["text"] != "" {
				t.Fatalf("replayed messages are not in their current state: %v", replayed[:2])
			}
			page := rec.do(`{"type":"history","id":"h","room":"r"}`)
			var hist []map[string]any
			for _, m := range page["messages"].([]any) {
				hist = append(hist, m.(map[string]any))
			}
			if got := state(hist); got != want {
				t.Fatalf("history state %s, online %s", got, want)
			}

			msgs, err := st.After(servertest.Context(t), "r", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if strings.Contains(m.Text, "secret") {
					t.Fatalf("the deleted text is still in the store: %+v", m)
				}
			}
		})
	}
}

// joinCollectAll is joinCollect that keeps changes and reactions as well
// as messages.
func (c *jsonClient) joinCollectAll(raw string) ([]map[string]any, map[string]any) {
	c.t.Helper()
	c.send(raw)
	var evs []map[string]any
	for {
		ev := c.event()
		switch ev["type"] {
		case "message", "edit", "delete", "react", "unreact":
			evs = append(evs, ev)
		case "ack", "error":
			return evs, ev
		}
	}
}

// TestAPlainClientsReplayHasCurrentTextsAndNoChanges: a plain-text client
// that asks for recent lines gets the messages' current texts, without the
// deleted ones and without the edit and delete events.
func TestAPlainClientsReplayHasCurrentTextsAndNoChanges(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t)})
	a := dialJSON(t, ts, "room=r&name=a")
	a.do(`{"type":"send","id":"1","room":"r","text":"one"}`)
	a.do(`{"type":"send","id":"2","room":"r","text":"two"}`)
	a.do(`{"type":"send","id":"3","room":"r","text":"three"}`)
	a.do(`{"type":"edit","id":"4","room":"r","target":1,"text":"one, edited"}`)
	a.do(`{"type":"delete","id":"5","room":"r","target":2}`)
	plain := dial(t, ts, "room=r&name=p&history=10")
	for _, want := range []string{"one, edited", "three"} {
		if got := plain.read(); got != want {
			t.Fatalf("the plain client's replay: %q, want %q", got, want)
		}
	}
	a.do(`{"type":"send","id":"6","room":"r","text":"live"}`)
	if got := plain.read(); got != "live" {
		t.Fatalf("after the replay the plain client read %q, want the live message", got)
	}
}
