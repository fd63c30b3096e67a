package server_test

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// expectMention reads events until a mention arrives, skipping the rest.
func (c *jsonClient) expectMention() map[string]any {
	c.t.Helper()
	for {
		if ev := c.event(); ev["type"] == "mention" {
			return ev
		}
	}
}

// TestMentionReachesEveryConnectionOfAMember: a message naming users
// tells, on all their connections, joined to the room or not, the
// members of the room: signed-in users who read it once, and users
// present in it (a guest only then). Others named are not told, nor is
// the author.
func TestMentionReachesEveryConnectionOfAMember(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bobToken := register(t, ts, "bob", "bob's password")
	bob1, bob2 := dialToken(t, ts, bobToken), dialToken(t, ts, bobToken)
	carol := dialToken(t, ts, register(t, ts, "carol", "carol's password"))
	dave := dialJSON(t, ts, "name=dave")
	erin := dialJSON(t, ts, "name=erin")

	alice.do(`{"type":"join","id":"1","room":"golang"}`)
	bob1.do(`{"type":"join","id":"1","room":"golang"}`)
	bob1.do(`{"type":"send","id":"2","room":"golang","text":"hello"}`)
	bob1.do(`{"type":"read","id":"3","room":"golang","seq":1}`)
	bob1.do(`{"type":"leave","id":"4","room":"golang"}`)
	dave.do(`{"type":"join","id":"1","room":"golang"}`)

	ack := alice.do(`{"type":"send","id":"5","room":"golang","text":"@bob @Carol @dave @erin @alice: look"}`)
	for _, c := range []*jsonClient{bob1, bob2, dave} {
		ev := c.expectMention()
		want := map[string]any{"type": "mention", "room": "golang", "seq": ack["seq"], "from": "alice", "ts": ack["ts"],
			"text": "@bob @Carol @dave @erin @alice: look"}
		if !reflect.DeepEqual(ev, want) {
			t.Fatalf("mention = %v; want %v", ev, want)
		}
	}
	// A fence: carol, erin and alice are told of the next mention first.
	for _, c := range []*jsonClient{carol, erin, alice} {
		c.do(`{"type":"join","id":"6","room":"fence"}`)
	}
	bob2.do(`{"type":"join","id":"7","room":"fence"}`)
	fence := bob2.do(`{"type":"send","id":"8","room":"fence","text":"@carol @erin @alice"}`)
	for _, c := range []*jsonClient{carol, erin, alice} {
		if ev := c.expectMention(); ev["room"] != "fence" || ev["seq"] != fence["seq"] {
			t.Fatalf("first mention = %v; want the fence's", ev)
		}
	}
}

// TestMentionsListAndUnread: a signed-in user's mentions are kept: listed
// newest first in pages, and unread ones (above the read position) given
// in the welcome; a delete removes its message's mentions, and an edit
// that adds a name tells its user.
func TestMentionsListAndUnread(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bobToken := register(t, ts, "bob", "bob's password")
	bob := dialToken(t, ts, bobToken)
	for _, c := range []*jsonClient{alice, bob} {
		c.do(`{"type":"join","id":"1","room":"golang"}`)
	}
	var seqs []any
	for i := range 3 {
		seqs = append(seqs, alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":"golang","text":"@bob %d"}`, i))["seq"])
		bob.expectMention()
	}
	plain := alice.do(`{"type":"send","id":"s","room":"golang","text":"nobody"}`)["seq"]
	edit := alice.do(fmt.Sprintf(`{"type":"edit","id":"e","room":"golang","target":%v,"text":"now @bob"}`, plain))
	if ev := bob.expectMention(); ev["seq"] != edit["seq"] || ev["target"] != plain || ev["text"] != "now @bob" {
		t.Fatalf("the edit's mention = %v; want seq %v target %v", ev, edit["seq"], plain)
	}
	alice.do(fmt.Sprintf(`{"type":"delete","id":"d","room":"golang","target":%v}`, seqs[1]))

	page := bob.do(`{"type":"mentions","id":"m","limit":2}`)
	if got := seqsOf(page); !reflect.DeepEqual(got, []any{plain, seqs[2]}) || page["more"] != true {
		t.Fatalf("first page = %v; want seqs %v, %v and more", page, plain, seqs[2])
	}
	if page["messages"].([]any)[0].(map[string]any)["text"] != "now @bob" {
		t.Fatalf("the edited message is not in its current state: %v", page)
	}
	next := bob.do(fmt.Sprintf(`{"type":"mentions","id":"m","cursor":%q}`, page["cursor"]))
	if got := seqsOf(next); !reflect.DeepEqual(got, []any{seqs[0]}) || next["more"] == true {
		t.Fatalf("second page = %v; want seq %v alone", next, seqs[0])
	}

	again := dialToken(t, ts, bobToken)
	want := map[string]any{"golang": []any{seqs[0], seqs[2], edit["seq"]}}
	if got := again.welcome["unread_mentions"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("welcome unread_mentions = %v; want %v", got, want)
	}
	bob.do(fmt.Sprintf(`{"type":"read","id":"r","room":"golang","seq":%v}`, seqs[2]))
	want = map[string]any{"golang": []any{edit["seq"]}}
	if got := dialToken(t, ts, bobToken).welcome["unread_mentions"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("welcome unread_mentions after a read = %v; want %v", got, want)
	}
	guest := dialJSON(t, ts, "name=guest1")
	if r := guest.do(`{"type":"mentions","id":"m"}`); len(r["messages"].([]any)) != 0 {
		t.Fatalf("a guest's mentions = %v; want an empty list", r)
	}
}

func seqsOf(ack map[string]any) []any {
	var seqs []any
	for _, m := range ack["messages"].([]any) {
		seqs = append(seqs, m.(map[string]any)["seq"])
	}
	return seqs
}

// TestMentionsInPrivateRooms: in a private room only members are told,
// and a member removed no longer finds the room's mentions listed.
func TestMentionsInPrivateRooms(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	carol := dialToken(t, ts, register(t, ts, "carol", "carol's password"))
	alice.do(`{"type":"create","id":"1","room":"team","private":true}`)
	alice.do(`{"type":"invite","id":"2","room":"team","to":"bob"}`)
	alice.do(`{"type":"join","id":"3","room":"team"}`)
	seq := alice.do(`{"type":"send","id":"4","room":"team","text":"@bob @carol"}`)["seq"]
	if ev := bob.expectMention(); ev["seq"] != seq {
		t.Fatalf("bob's mention = %v", ev)
	}
	if r := carol.do(`{"type":"mentions","id":"m"}`); len(r["messages"].([]any)) != 0 {
		t.Fatalf("carol, not a member, has mentions %v", r)
	}
	if r := bob.do(`{"type":"mentions","id":"m"}`); len(r["messages"].([]any)) != 1 {
		t.Fatalf("bob's mentions = %v; want one", r)
	}
	alice.do(`{"type":"remove","id":"5","room":"team","to":"bob"}`)
	if r := bob.do(`{"type":"mentions","id":"m"}`); len(r["messages"].([]any)) != 0 {
		t.Fatalf("bob, removed, still lists %v", r)
	}
}

// TestMentionsRequests: the mentions request's accepted and refused
// forms.
func TestMentionsRequests(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	cases := []struct{ req, code string }{
		{`{"type":"mentions","id":"1"}`, ""},
		{`{"type":"mentions","id":"1","limit":1000}`, ""},
		{`{"type":"mentions","id":"1","cursor":"12"}`, ""},
		{`{"type":"mentions","id":"1","cursor":"x"}`, "bad_request"},
		{`{"type":"mentions","id":"1","cursor":"-3"}`, "bad_request"},
		{`{"type":"mentions","id":"1","limit":-1}`, "bad_request"},
	}
	for _, tc := range cases {
		r := bob.request(tc.req)
		if tc.code == "" && r["type"] != "ack" || tc.code != "" && r["code"] != tc.code {
			t.Errorf("%s: %v; want %q", tc.req, r, tc.code)
		}
	}
}

// TestMentionWithoutAStore: a server that keeps no history still tells the
// users present of a mention, but has no mentions to list.
func TestMentionWithoutAStore(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	alice, bob := dialJSON(t, ts, "name=alice"), dialJSON(t, ts, "name=bob")
	alice.do(`{"type":"join","id":"1","room":"golang"}`)
	bob.do(`{"type":"join","id":"1","room":"golang"}`)
	seq := alice.do(`{"type":"send","id":"2","room":"golang","text":"hi @bob"}`)["seq"]
	if ev := bob.expectMention(); ev["seq"] != seq || ev["from"] != "alice" {
		t.Fatalf("mention = %v; want seq %v from alice", ev, seq)
	}
	if r := bob.request(`{"type":"mentions","id":"3"}`); r["code"] != "unavailable" {
		t.Fatalf("mentions without a store: %v; want unavailable", r)
	}
}

// TestMentionsByPlainClientsAndBackends: a plain client's message and a
// backend's post mention users like a send; plain-text clients receive
// the texts of the messages and nothing of the mentions.
func TestMentionsByPlainClientsAndBackends(t *testing.T) {
	const key = "k3y-for-backends-only"
	ts, _ := startAccounts(t, func(c *server.Config) { c.APIKey = key })
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	bob.do(`{"type":"join","id":"1","room":"ops"}`)
	watcher := dial(t, ts, "room=ops&name=watcher")
	writer := dial(t, ts, "room=ops&name=writer")
	writer.send("@bob @watcher look")
	if ev := bob.expectMention(); ev["from"] != "writer" || ev["text"] != "@bob @watcher look" || ev["seq"] != float64(1) {
		t.Fatalf("the plain client's mention = %v", ev)
	}
	status, reply, _ := api(t, ts, "POST", "/api/rooms/ops/messages", key, map[string]any{"text": "deployed, @Bob", "from": "deploy-bot"})
	if status != 201 {
		t.Fatalf("post: %d %v", status, reply)
	}
	if ev := bob.expectMention(); ev["from"] != "deploy-bot" || ev["seq"] != reply["seq"] {
		t.Fatalf("the backend's mention = %v; want seq %v", ev, reply["seq"])
	}
	for _, want := range []string{"@bob @watcher look", "deployed, @Bob"} {
		if got := watcher.read(); got != want {
			t.Fatalf("plain client got %q, want %q", got, want)
		}
	}
	if r := bob.do(`{"type":"mentions","id":"m"}`); len(r["messages"].([]any)) != 2 {
		t.Fatalf("bob's mentions = %v; want both", r)
	}
}

// expectUnmention reads c's events up to the next unmention.
func (c *jsonClient) expectUnmention() map[string]any {
	c.t.Helper()
	for {
		if ev := c.event(); ev["type"] == "unmention" {
			return ev
		}
	}
}

// TestAMentionTakenBackIsNoLongerUnread: a delete of a message that
// mentions a signed-in user, or an edit that takes the name out, takes the
// mention away: the user's connections get an unmention event naming the
// seq of the mention event to drop, its welcome no longer lists it as
// unread and its mentions list no longer holds the message. An edit that
// keeps the name keeps the mention.
func TestAMentionTakenBackIsNoLongerUnread(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bobToken := register(t, ts, "bob", "bob's password")
	bob := dialToken(t, ts, bobToken)
	for _, c := range []*jsonClient{alice, bob} {
		c.do(`{"type":"join","id":"1","room":"golang"}`)
	}
	send := func(text string) any {
		return alice.do(`{"type":"send","id":"s","room":"golang","text":` + strconv.Quote(text) + `}`)["seq"]
	}
	deleted, renamed, plain, kept := send("@bob one"), send("@bob two"), send("nobody"), send("@bob four")
	edit := alice.do(fmt.Sprintf(`{"type":"edit","id":"e","room":"golang","target":%v,"text":"now @bob"}`, plain))["seq"]
	for range 4 {
		bob.expectMention()
	}

	for _, tc := range []struct {
		req             string
		target, mention any
	}{
		{fmt.Sprintf(`{"type":"delete","id":"d","room":"golang","target":%v}`, deleted), deleted, deleted},
		{fmt.Sprintf(`{"type":"edit","id":"e","room":"golang","target":%v,"text":"two, for @carol"}`, renamed), renamed, renamed},
		{fmt.Sprintf(`{"type":"edit","id":"e","room":"golang","target":%v,"text":"nobody again"}`, plain), plain, edit},
	} {
		ack := alice.do(tc.req)
		ev := bob.expectUnmention()
		if ev["room"] != "golang" || ev["seq"] != ack["seq"] || ev["from"] != "alice" || ev["target"] != tc.target || ev["mention"] != tc.mention {
			t.Fatalf("after %s bob got %v; want seq %v, target %v, mention %v", tc.req, ev, ack["seq"], tc.target, tc.mention)
		}
	}
	// An edit that keeps the name tells nothing: the next event bob gets
	// of either kind is the later message's mention.
	alice.do(fmt.Sprintf(`{"type":"edit","id":"e","room":"golang","target":%v,"text":"@bob four, edited"}`, kept))
	last := send("@bob five")
	for {
		ev := bob.event()
		if ev["type"] == "unmention" {
			t.Fatalf("an edit that keeps bob's name took his mention: %v", ev)
		}
		if ev["type"] == "mention" {
			if ev["seq"] != last {
				t.Fatalf("bob's next mention = %v; want %v", ev, last)
			}
			break
		}
	}

	want := map[string]any{"golang": []any{kept, last}}
	if got := dialToken(t, ts, bobToken).welcome["unread_mentions"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("welcome unread_mentions = %v; want %v", got, want)
	}
	if got := seqsOf(bob.do(`{"type":"mentions","id":"m"}`)); !reflect.DeepEqual(got, []any{last, kept}) {
		t.Fatalf("bob's mentions = %v; want %v, %v", got, last, kept)
	}
}
