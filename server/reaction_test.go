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

// TestReactionRequests: which reactions are accepted, and the codes of
// the refusals. Each case runs against a fresh room holding alice's
// message 1, message 2 deleted by message 3, and bob's 👍 to message 1
// as message 4; setup requests run first, by the same user.
func TestReactionRequests(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.RequestRate, c.SendRate = -1, -1 })
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	reacts := func(from, n int) []string {
		var rs []string
		for i := from; i < from+n; i++ {
			rs = append(rs, fmt.Sprintf(`"type":"react","target":1,"emoji":":e%d:"`, i))
		}
		return rs
	}
	cases := []struct {
		name  string
		who   string // alice, bob or an outsider
		setup []string
		req   string // room and id are added
		code  string // "" for an ack
	}{
		{"a reaction", "alice", nil, `"type":"react","target":1,"emoji":"👍"`, ""},
		{"a reaction by name", "alice", nil, `"type":"react","target":1,"emoji":":tada:"`, ""},
		{"a reaction given already", "bob", nil, `"type":"react","target":1,"emoji":"👍"`, ""},
		{"a reaction taken back", "bob", nil, `"type":"unreact","target":1,"emoji":"👍"`, ""},
		{"a reaction not given taken back", "alice", nil, `"type":"unreact","target":1,"emoji":"👍"`, ""},
		{"markup", "alice", nil, `"type":"react","target":1,"emoji":"<b>"`, "bad_request"},
		{"a word", "alice", nil, `"type":"react","target":1,"emoji":"yes"`, "bad_request"},
		{"two emoji apart", "alice", nil, `"type":"react","target":1,"emoji":"👍 👍"`, "bad_request"},
		{"no emoji", "alice", nil, `"type":"react","target":1`, "bad_request"},
		{"no target", "alice", nil, `"type":"react","emoji":"👍"`, "bad_request"},
		{"a missing message", "alice", nil, `"type":"react","target":99,"emoji":"👍"`, "not_found"},
		{"a deleted message", "alice", nil, `"type":"react","target":2,"emoji":"👍"`, "not_found"},
		{"a change", "alice", nil, `"type":"react","target":3,"emoji":"👍"`, "not_found"},
		{"a reaction", "alice", nil, `"type":"react","target":4,"emoji":"👍"`, "not_found"},
		{"a room not joined", "outsider", nil, `"type":"react","target":1,"emoji":"👍"`, "not_member"},
		{"one reaction too many by one user", "alice", reacts(0, 5), `"type":"react","target":1,"emoji":"👍"`, "reaction_limit"},
		{"one user's last reaction", "alice", reacts(0, 4), `"type":"react","target":1,"emoji":":x:"`, ""},
		{"one user's reactions at the limit, one of them again", "alice", reacts(0, 5), `"type":"react","target":1,"emoji":":e0:"`, ""},
		{"one emoji too many on a message", "bob", slices.Concat([]string{""}, reacts(0, 19)),
			`"type":"react","target":1,"emoji":"🎉"`, "reaction_limit"},
		{"an emoji given already on a full message", "bob", slices.Concat([]string{""}, reacts(0, 19)),
			`"type":"react","target":1,"emoji":":e0:"`, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			room := fmt.Sprintf("r%d", i)
			alice.do(fmt.Sprintf(`{"type":"join","id":"j","room":%q}`, room))
			bob.do(fmt.Sprintf(`{"type":"join","id":"j","room":%q}`, room))
			alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":"one"}`, room))
			alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":"two"}`, room))
			alice.do(fmt.Sprintf(`{"type":"delete","id":"d","room":%q,"target":2}`, room))
			bob.do(fmt.Sprintf(`{"type":"react","id":"r","room":%q,"target":1,"emoji":"👍"}`, room))
			c := map[string]*jsonClient{"alice": alice, "bob": bob}[tc.who]
			if c == nil {
				c = dialJSON(t, ts, "name=outsider")
			}
			// A setup that begins with "" is given by others, five
			// reactions each, to fill the message's emoji.
			others := len(tc.setup) > 0 && tc.setup[0] == ""
			if others {
				tc.setup = tc.setup[1:]
			}
			var by *jsonClient
			for j, req := range tc.setup {
				switch {
				case !others:
					by = c
				case j%5 == 0:
					by = dialToken(t, ts, register(t, ts, fmt.Sprintf("u%d-%d", i, j/5), "a password!"))
					by.do(fmt.Sprintf(`{"type":"join","id":"j","room":%q}`, room))
				}
				if r := by.do(fmt.Sprintf(`{"id":"s","room":%q,%s}`, room, req)); r["type"] != "ack" {
					t.Fatalf("setup %s: %v", req, r)
				}
			}
			r := c.request(fmt.Sprintf(`{"id":"x","room":%q,%s}`, room, tc.req))
			switch {
			case tc.code == "" && (r["type"] != "ack" || r["seq"] != float64(5+len(tc.setup))):
				t.Fatalf("%s: %v, want an ack with seq %d", tc.req, r, 5+len(tc.setup))
			case tc.code != "" && r["code"] != tc.code:
				t.Fatalf("%s: %v, want error %s", tc.req, r, tc.code)
			}
		})
	}
}

// reactionState is the reactions that events leave on each message, as
// a client applies them: "seq:emoji=user,user;...", sorted.
func reactionState(events []map[string]any) string {
	users := map[float64]map[string][]string{}
	at := func(seq float64) map[string][]string {
		if users[seq] == nil {
			users[seq] = map[string][]string{}
		}
		return users[seq]
	}
	for _, ev := range events {
		switch ev["type"] {
		case "message":
			rs, _ := ev["reactions"].([]any)
			for _, r := range rs {
				r := r.(map[string]any)
				for _, u := range r["users"].([]any) {
					at(ev["seq"].(float64))[r["emoji"].(string)] = append(at(ev["seq"].(float64))[r["emoji"].(string)], u.(string))
				}
				if int(r["count"].(float64)) != len(r["users"].([]any)) {
					return fmt.Sprintf("count %v of %v", r["count"], r["users"])
				}
			}
		case "react":
			m := at(ev["target"].(float64))
			if !slices.Contains(m[ev["emoji"].(string)], ev["from"].(string)) {
				m[ev["emoji"].(string)] = append(m[ev["emoji"].(string)], ev["from"].(string))
			}
		case "unreact":
			m := at(ev["target"].(float64))
			m[ev["emoji"].(string)] = slices.DeleteFunc(m[ev["emoji"].(string)], func(u string) bool { return u == ev["from"] })
		case "delete":
			delete(users, ev["target"].(float64))
		case "reactions":
			m := at(ev["target"].(float64))
			clear(m)
			for _, r := range ev["reactions"].([]any) {
				r := r.(map[string]any)
				for _, u := range r["users"].([]any) {
					m[r["emoji"].(string)] = append(m[r["emoji"].(string)], u.(string))
				}
			}
		}
	}
	var parts []string
	for seq, m := range users {
		for emoji, us := range m {
			if len(us) > 0 {
				slices.Sort(us)
				parts = append(parts, fmt.Sprintf("%v:%s=%s", seq, emoji, strings.Join(us, ",")))
			}
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}

// TestReactionsReachEveryoneAndRecoveryConverges: the members of a room
// receive reactions as events of the sequence; a client that recovers
// with since, or pages the history, ends with the same reactions; a
// deleted message loses its reactions; and a plain-text client receives
// nothing of them.
func TestReactionsReachEveryoneAndRecoveryConverges(t *testing.T) {
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

			alice.do(`{"type":"send","id":"1","room":"r","text":"hello"}`)
			alice.do(`{"type":"send","id":"2","room":"r","text":"doomed"}`)
			react := bob.do(`{"type":"react","id":"3","room":"r","target":1,"emoji":"👍","client_msg_id":"r1"}`)
			if react["seq"] != float64(3) || react["request"] != "react" {
				t.Fatalf("react ack %v", react)
			}
			if again := bob.do(`{"type":"react","id":"3","room":"r","target":1,"emoji":"👍","client_msg_id":"r1"}`); again["seq"] != float64(3) || again["duplicate"] != true {
				t.Fatalf("a repeated react: %v", again)
			}
			alice.do(`{"type":"react","id":"4","room":"r","target":1,"emoji":"👍"}`)
			bob.do(`{"type":"react","id":"5","room":"r","target":1,"emoji":":tada:"}`)
			bob.do(`{"type":"react","id":"6","room":"r","target":2,"emoji":"🎉"}`)
			bob.do(`{"type":"unreact","id":"7","room":"r","target":1,"emoji":":tada:"}`)
			alice.do(`{"type":"react","id":"8","room":"r","target":1,"emoji":"❤️"}`)
			alice.do(`{"type":"delete","id":"9","room":"r","target":2}`)
			alice.do(`{"type":"send","id":"10","room":"r","text":"bye"}`)

			var live []map[string]any
			for len(live) < 10 {
				ev := online.event()
				switch ev["type"] {
				case "message", "delete", "react", "unreact":
					live = append(live, ev)
				}
			}
			if live[2]["type"] != "react" || live[2]["target"] != float64(1) || live[2]["emoji"] != "👍" || live[2]["from"] != "bob" ||
				live[2]["text"] != "" || live[6]["type"] != "unreact" || live[6]["seq"] != float64(7) {
				t.Fatalf("live events %v", live)
			}
			want := reactionState(live)
			if want != "1:❤️=alice;1:👍=alice,bob" {
				t.Fatalf("online state %s", want)
			}
			for _, w := range []string{"hello", "doomed", "bye"} {
				if got := plain.read(); got != w {
					t.Fatalf("the plain-text client read %q, want %q", got, w)
				}
			}
			plain.expectSilence(100 * 1e6)

			for _, since := range []int{0, 4} {
				rec := dialJSON(t, ts, fmt.Sprintf("name=rec%d", since))
				// A client that saw the first since events recovers the rest.
				replayed, ack := rec.joinCollectAll(fmt.Sprintf(`{"type":"join","id":"j","room":"r","since":%d}`, since))
				if ack["type"] != "ack" || len(replayed) != 10-since {
					t.Fatalf("recovery since %d: %v, %v", since, replayed, ack)
				}
				if got := reactionState(append(slices.Clone(live[:since]), replayed...)); got != want {
					t.Fatalf("state recovered since %d: %s, online %s", since, got, want)
				}
			}
			rec := dialJSON(t, ts, "name=rec")
			page := rec.do(`{"type":"history","id":"h","room":"r"}`)
			var hist []map[string]any
			for _, m := range page["messages"].([]any) {
				hist = append(hist, m.(map[string]any))
			}
			if got := reactionState(hist); got != want {
				t.Fatalf("history state %s, online %s", got, want)
			}
			// The message itself carries them, aggregated, in the order given.
			if rs := fmt.Sprint(hist[0]["reactions"]); rs != "[map[count:2 emoji:👍 users:[bob alice]] map[count:1 emoji:❤️ users:[alice]]]" {
				t.Fatalf("message 1's reactions %s", rs)
			}
			if hist[1]["deleted"] != true || hist[1]["reactions"] != nil {
				t.Fatalf("a deleted message keeps reactions: %v", hist[1])
			}
		})
	}
}
