package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
)

// TestReplyRequests: which replies and thread replies are accepted, and
// the codes of the refusals. Each case runs against a fresh room holding
// alice's message 1, message 2 deleted by message 3, bob's thread reply 4
// on message 1, his thread reply 5 on it shown in the room too, and his
// plain reply 6 to message 1.
func TestReplyRequests(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.RequestRate, c.SendRate = -1, -1 })
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	cases := []struct {
		name string
		who  string // alice, bob or an outsider
		req  string // room, id and text are added
		code string // "" for an ack
	}{
		{"a reply", "alice", `"reply_to":1`, ""},
		{"a thread reply", "alice", `"thread":1`, ""},
		{"a thread reply also to the room", "alice", `"thread":1,"also_room":true`, ""},
		{"a thread reply answering its root", "alice", `"thread":1,"reply_to":1`, ""},
		{"a thread reply answering a reply in it", "alice", `"thread":1,"reply_to":4`, ""},
		{"a thread on a plain reply", "alice", `"thread":6`, ""},
		{"a reply to a reply also in the room", "alice", `"reply_to":5`, ""},
		{"a reply to a missing message", "alice", `"reply_to":99`, "not_found"},
		{"a reply to a deleted message", "alice", `"reply_to":2`, "not_found"},
		{"a reply to a change", "alice", `"reply_to":3`, "not_found"},
		{"a thread on a missing message", "alice", `"thread":99`, "not_found"},
		{"a new thread on a deleted message", "bob", `"thread":2`, "not_found"},
		{"a thread on a change", "alice", `"thread":3`, "not_found"},
		{"a thread on a thread reply", "alice", `"thread":4`, "bad_thread"},
		{"a thread on a thread reply also in the room", "alice", `"thread":5`, "bad_thread"},
		{"a reply in the room to a reply in a thread only", "alice", `"reply_to":4`, "bad_thread"},
		{"a thread reply answering a message outside the thread", "alice", `"thread":1,"reply_to":6`, "bad_thread"},
		{"also to the room without a thread", "alice", `"reply_to":1,"also_room":true`, "bad_request"},
		{"a thread that is not a number", "alice", `"thread":"1"`, "bad_request"},
		{"a reply in a room not joined", "outsider", `"reply_to":1`, "not_member"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			room := fmt.Sprintf("r%d", i)
			alice.do(fmt.Sprintf(`{"type":"join","id":"j","room":%q}`, room))
			bob.do(fmt.Sprintf(`{"type":"join","id":"j","room":%q}`, room))
			alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":"one"}`, room))
			alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":"two"}`, room))
			alice.do(fmt.Sprintf(`{"type":"delete","id":"d","room":%q,"target":2}`, room))
			bob.do(fmt.Sprintf(`{"type":"send","id":"t","room":%q,"text":"in the thread","thread":1}`, room))
			bob.do(fmt.Sprintf(`{"type":"send","id":"t","room":%q,"text":"in both","thread":1,"also_room":true}`, room))
			bob.do(fmt.Sprintf(`{"type":"send","id":"t","room":%q,"text":"a reply","reply_to":1}`, room))
			c := map[string]*jsonClient{"alice": alice, "bob": bob}[tc.who]
			if c == nil {
				c = dialJSON(t, ts, "name=outsider")
			}
			r := c.request(fmt.Sprintf(`{"type":"send","id":"x","room":%q,"text":"hi",%s}`, room, tc.req))
			switch {
			case tc.code == "" && (r["type"] != "ack" || r["seq"] != float64(7)):
				t.Fatalf("%s: %v, want an ack with seq 7", tc.req, r)
			case tc.code != "" && r["code"] != tc.code:
				t.Fatalf("%s: %v, want error %s", tc.req, r, tc.code)
			}
		})
	}
}

// TestThreadOfAPrivateRoomIsReadByMembersOnly: a thread is refused, to
// replies and to its history, like any request in a room the user cannot
// read.
func TestThreadOfAPrivateRoomIsReadByMembersOnly(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	mallory := dialToken(t, ts, register(t, ts, "mallory", "mallory's password"))
	alice.do(`{"type":"create","id":"c","room":"secret","private":true}`)
	alice.do(`{"type":"join","id":"j","room":"secret"}`)
	alice.do(`{"type":"send","id":"s","room":"secret","text":"the plan"}`)
	alice.do(`{"type":"send","id":"s","room":"secret","text":"step one","thread":1}`)
	if r := mallory.request(`{"type":"history","id":"h","room":"secret","thread":1}`); r["code"] != "forbidden" {
		t.Fatalf("thread history of a private room by a non-member: %v", r)
	}
	if r := mallory.request(`{"type":"send","id":"s","room":"secret","text":"me too","thread":1}`); r["code"] != "not_member" {
		t.Fatalf("thread reply in a private room by a non-member: %v", r)
	}
	page := alice.do(`{"type":"history","id":"h","room":"secret","thread":1}`)
	if ms := page["messages"].([]any); len(ms) != 1 || ms[0].(map[string]any)["text"] != "step one" {
		t.Fatalf("alice's thread page: %v", page)
	}
}

// threadState is what events leave of each thread, as a client applies
// them: "root:replies@last_reply_seq", sorted, counting a reply only if
// it is newer than the root's last one.
func threadState(events []map[string]any) string {
	type summary struct{ n, last float64 }
	roots := map[float64]*summary{}
	for _, ev := range events {
		if ev["type"] != "message" {
			continue
		}
		if n, ok := ev["replies"].(float64); ok {
			roots[ev["seq"].(float64)] = &summary{n, ev["last_reply_seq"].(float64)}
		}
		if root, ok := ev["thread"].(float64); ok {
			s := roots[root]
			if s == nil {
				s = &summary{}
				roots[root] = s
			}
			if seq := ev["seq"].(float64); seq > s.last {
				s.n, s.last = s.n+1, seq
			}
		}
	}
	var parts []string
	for root, s := range roots {
		parts = append(parts, fmt.Sprintf("%v:%v@%v", root, s.n, s.last))
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}

// TestThreadsReachEveryoneAndRecoveryConverges: the members of a room
// receive replies and thread replies as messages of the sequence, naming
// what they answer; a client that recovers with since, or pages the
// history, ends with the same thread summaries; a thread pages on its own,
// also after its root is deleted; a repeated thread reply counts once;
// and a plain-text client receives the texts of every new message.
func TestThreadsReachEveryoneAndRecoveryConverges(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   func(t *testing.T) store.Store
	}{
		{"SQLite", func(t *testing.T) store.Store { return servertest.SQLite(t) }},
		{"PostgreSQL", func(t *testing.T) store.Store { st, _ := postgresSchema(t); return st }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t, server.Config{Store: tc.st(t)})
			alice := dialJSON(t, ts, "room=r&name=alice")
			bob := dialJSON(t, ts, "room=r&name=bob")
			online := dialJSON(t, ts, "room=r&name=online")
			plain := dial(t, ts, "room=r&name=plain")
			alice.expect("presence_diff")

			alice.do(`{"type":"send","id":"1","room":"r","text":"root"}`)
			bob.do(`{"type":"send","id":"2","room":"r","text":"in the thread","thread":1,"client_msg_id":"t1"}`)
			if again := bob.do(`{"type":"send","id":"2","room":"r","text":"in the thread","thread":1,"client_msg_id":"t1"}`); again["seq"] != float64(2) || again["duplicate"] != true {
				t.Fatalf("a repeated thread reply: %v", again)
			}
			bob.do(`{"type":"send","id":"3","room":"r","text":"in both","thread":1,"also_room":true}`)
			alice.do(`{"type":"send","id":"4","room":"r","text":"a reply","reply_to":1}`)
			alice.do(`{"type":"send","id":"5","room":"r","text":"me too","thread":1,"reply_to":2}`)
			alice.do(`{"type":"delete","id":"6","room":"r","target":1}`)
			bob.do(`{"type":"send","id":"7","room":"r","text":"still here","thread":1}`)

			var live []map[string]any
			for len(live) < 7 {
				ev := online.event()
				switch ev["type"] {
				case "message", "delete":
					live = append(live, ev)
				}
			}
			if live[1]["thread"] != float64(1) || live[1]["also_room"] != nil || live[2]["also_room"] != true ||
				live[3]["reply_to"] != float64(1) || live[3]["thread"] != nil || live[4]["reply_to"] != float64(2) {
				t.Fatalf("live events %v", live)
			}
			want := threadState(live)
			if want != "1:4@7" {
				t.Fatalf("online state %s", want)
			}
			for _, w := range []string{"root", "in the thread", "in both", "a reply", "me too", "still here"} {
				if got := plain.read(); got != w {
					t.Fatalf("the plain-text client read %q, want %q", got, w)
				}
			}
			plain.expectSilence(100 * 1e6)

			for _, since := range []int{0, 3} {
				rec := dialJSON(t, ts, fmt.Sprintf("name=rec%d", since))
				replayed, ack := rec.joinCollectAll(fmt.Sprintf(`{"type":"join","id":"j","room":"r","since":%d}`, since))
				if ack["type"] != "ack" || len(replayed) != 7-since {
					t.Fatalf("recovery since %d: %v, %v", since, replayed, ack)
				}
				if got := threadState(append(slices.Clone(live[:since]), replayed...)); got != want {
					t.Fatalf("state recovered since %d: %s, online %s", since, got, want)
				}
			}
			rec := dialJSON(t, ts, "name=rec")
			page := rec.do(`{"type":"history","id":"h","room":"r"}`)
			var hist []map[string]any
			for _, m := range page["messages"].([]any) {
				hist = append(hist, m.(map[string]any))
			}
			if got := threadState(hist); got != want {
				t.Fatalf("history state %s, online %s", got, want)
			}
			if root := hist[0]; root["deleted"] != true || root["replies"] != float64(4) || root["last_reply_ts"] != live[6]["ts"] {
				t.Fatalf("the deleted root reads %v", root)
			}

			// The thread pages on its own, newest first, then forward.
			texts := func(page map[string]any) string {
				var ts []string
				for _, m := range page["messages"].([]any) {
					ts = append(ts, m.(map[string]any)["text"].(string))
				}
				return fmt.Sprintf("%s more=%v", strings.Join(ts, "|"), page["more"] == true)
			}
			for _, c := range []struct{ req, want string }{
				{`"thread":1`, "in the thread|in both|me too|still here more=false"},
				{`"thread":1,"limit":2`, "me too|still here more=true"},
				{`"thread":1,"limit":2,"before":5`, "in the thread|in both more=false"},
				{`"thread":1,"limit":3,"after":2`, "in both|me too|still here more=false"},
				{`"thread":1,"limit":1,"after":0`, "in the thread more=true"},
			} {
				if got := texts(rec.do(`{"type":"history","id":"h","room":"r",` + c.req + `}`)); got != c.want {
					t.Fatalf("history %s: %s, want %s", c.req, got, c.want)
				}
			}
		})
	}
}
