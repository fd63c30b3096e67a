package server_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chatd/chatd/server"
)

// hitsOf returns a search reply's hits as room/seq.
func hitsOf(t *testing.T, reply map[string]any) []string {
	t.Helper()
	raw, ok := reply["hits"].([]any)
	if !ok {
		t.Fatalf("a search reply without hits: %v", reply)
	}
	var out []string
	for _, h := range raw {
		m := h.(map[string]any)
		out = append(out, fmt.Sprintf("%s/%v", m["room"], m["seq"]))
	}
	return out
}

// TestSearchRequests: what a search finds for whom, and the codes of the
// refusals. alice owns the private room secret; lobby is public; bob is
// signed in but not in secret; guest is a guest.
func TestSearchRequests(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.RequestRate, c.SendRate = -1, -1 })
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	guest := dialJSON(t, ts, "name=guest")
	alice.do(`{"type":"create","id":"c","room":"secret","private":true}`)
	alice.do(`{"type":"join","id":"j","room":"secret"}`)
	alice.do(`{"type":"send","id":"s","room":"secret","text":"the needle is hidden here"}`) // secret/1
	alice.do(`{"type":"join","id":"j","room":"lobby"}`)
	bob.do(`{"type":"join","id":"j","room":"lobby"}`)
	a1 := alice.do(`{"type":"send","id":"s","room":"lobby","text":"a Needle, in the lobby"}`) // lobby/1
	bob.do(`{"type":"send","id":"s","room":"lobby","text":"haystack and needles"}`)           // lobby/2
	b3 := bob.do(`{"type":"send","id":"s","room":"lobby","text":"a typo neeedle"}`)           // lobby/3
	bob.do(`{"type":"edit","id":"e","room":"lobby","target":3,"text":"fixed: needle"}`)       // lobby/4
	alice.do(`{"type":"send","id":"s","room":"lobby","text":"needle to delete"}`)             // lobby/5
	alice.do(`{"type":"delete","id":"d","room":"lobby","target":5}`)                          // lobby/6
	ts1, ts3 := int64(a1["ts"].(float64)), int64(b3["ts"].(float64))

	cases := []struct {
		name string
		who  string
		req  string // the id is added
		hits []string
		code string
	}{
		{"a member finds the private room's message", "alice", `"q":"needle"`, []string{"lobby/3", "lobby/1", "secret/1"}, ""},
		{"another user does not", "bob", `"q":"needle"`, []string{"lobby/3", "lobby/1"}, ""},
		{"nor does a guest", "guest", `"q":"NEEDLE"`, []string{"lobby/3", "lobby/1"}, ""},
		{"a whole word", "bob", `"q":"needl"`, nil, ""},
		{"the last word is a prefix with a star", "bob", `"q":"needl*"`, []string{"lobby/3", "lobby/2", "lobby/1"}, ""},
		{"only the last word", "bob", `"q":"needle i*"`, []string{"lobby/1"}, ""},
		{"a prefix", "bob", `"q":"hay *"`, []string{"lobby/2"}, ""},
		{"every word", "bob", `"q":"a needle"`, []string{"lobby/1"}, ""},
		{"an edit's old text", "bob", `"q":"neeedle"`, nil, ""},
		{"a deleted message", "bob", `"q":"delete"`, nil, ""},
		{"query syntax is words", "bob", `"q":"\"needle\" OR NEAR(x) *"`, nil, ""},
		{"in one room", "alice", `"q":"needle*","room":"lobby"`, []string{"lobby/3", "lobby/2", "lobby/1"}, ""},
		{"by one author", "alice", `"q":"needle*","from":"bob"`, []string{"lobby/3", "lobby/2"}, ""},
		{"after a time", "bob", fmt.Sprintf(`"q":"needle*","after":%d`, ts1), []string{"lobby/3", "lobby/2"}, ""},
		{"before a time", "bob", fmt.Sprintf(`"q":"needle*","before":%d`, ts3), []string{"lobby/2", "lobby/1"}, ""},
		{"best first", "bob", `"q":"haystack","order":"best"`, []string{"lobby/2"}, ""},
		{"newest first", "bob", `"q":"needle","order":"newest"`, []string{"lobby/3", "lobby/1"}, ""},
		{"a private room not in", "bob", `"q":"needle","room":"secret"`, nil, "forbidden"},
		{"a private room as a guest", "guest", `"q":"needle","room":"secret"`, nil, "forbidden"},
		{"no q", "bob", `"room":"lobby"`, nil, "bad_request"},
		{"no words", "bob", `"q":" ?! "`, nil, "bad_request"},
		{"a long q", "bob", `"q":"` + strings.Repeat("a ", 129) + `"`, nil, "bad_request"},
		{"another order", "bob", `"q":"needle","order":"oldest"`, nil, "bad_request"},
		{"a negative limit", "bob", `"q":"needle","limit":-1`, nil, "bad_request"},
		{"a made-up cursor", "bob", `"q":"needle","cursor":"x"`, nil, "bad_request"},
		{"a bad room", "bob", `"q":"needle","room":"no room!"`, nil, "invalid_room"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := map[string]*jsonClient{"alice": alice, "bob": bob, "guest": guest}[tc.who]
			r := c.request(`{"type":"search","id":"q",` + tc.req + `}`)
			if tc.code != "" {
				if r["type"] != "error" || r["code"] != tc.code || r["id"] != "q" {
					t.Fatalf("reply %v; want error %s", r, tc.code)
				}
				return
			}
			if r["type"] != "ack" || r["request"] != "search" || r["id"] != "q" {
				t.Fatalf("reply %v; want a search ack", r)
			}
			if got := hitsOf(t, r); !slices.Equal(got, tc.hits) {
				t.Fatalf("hits %v; want %v", got, tc.hits)
			}
			if r["more"] == true || r["cursor"] != nil {
				t.Fatalf("a complete reply says more: %v", r)
			}
		})
	}
}

// TestSearchHitCarriesItsMarks: a hit has the message's current text,
// who sent it and when, its edit time, and where the words are in code
// points.
func TestSearchHitCarriesItsMarks(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	c := dialJSON(t, ts, "name=carol")
	c.do(`{"type":"join","id":"j","room":"r"}`)
	c.do(`{"type":"send","id":"s","room":"r","text":"old"}`)
	c.do(`{"type":"edit","id":"e","room":"r","target":1,"text":"Grüße, grüße: grü!"}`)
	r := c.do(`{"type":"search","id":"q","q":"grüße gRÜ*"}`)
	var reply struct {
		Hits []struct {
			Room   string
			Seq    uint64
			From   string
			TS     int64
			Text   string
			Edited int64
			Marks  [][2]int
		}
	}
	b, _ := json.Marshal(r)
	if err := json.Unmarshal(b, &reply); err != nil || len(reply.Hits) != 1 {
		t.Fatalf("reply %v: %v", r, err)
	}
	h := reply.Hits[0]
	if h.Room != "r" || h.Seq != 1 || h.From != "carol" || h.TS == 0 || h.Edited == 0 || h.Text != "Grüße, grüße: grü!" {
		t.Fatalf("hit %+v", h)
	}
	if want := [][2]int{{0, 5}, {7, 12}, {14, 17}}; !slices.Equal(h.Marks, want) {
		t.Fatalf("marks %v; want %v", h.Marks, want)
	}
}

// TestSearchMarksWordsWithoutRegardToAccents: a search for a word without
// its accents finds and marks it with them, and the other way round, also
// as a prefix.
func TestSearchMarksWordsWithoutRegardToAccents(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	c := dialJSON(t, ts, "name=carol")
	c.do(`{"type":"join","id":"j","room":"r"}`)
	c.do(`{"type":"send","id":"s1","room":"r","text":"un café, une CRÈME"}`)
	c.do(`{"type":"send","id":"s2","room":"r","text":"cafe creme"}`)
	for _, tc := range []struct {
		q    string
		want map[uint64][][2]int
	}{
		{"cafe creme", map[uint64][][2]int{1: {{3, 7}, {13, 18}}, 2: {{0, 4}, {5, 10}}}},
		{"café crème", map[uint64][][2]int{1: {{3, 7}, {13, 18}}, 2: {{0, 4}, {5, 10}}}},
		{"CAF*", map[uint64][][2]int{1: {{3, 7}}, 2: {{0, 4}}}},
	} {
		r := c.do(`{"type":"search","id":"q","q":` + strconv.Quote(tc.q) + `}`)
		var reply struct {
			Hits []struct {
				Seq   uint64
				Marks [][2]int
			}
		}
		b, _ := json.Marshal(r)
		if err := json.Unmarshal(b, &reply); err != nil {
			t.Fatal(err)
		}
		got := make(map[uint64][][2]int)
		for _, h := range reply.Hits {
			got[h.Seq] = h.Marks
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("search %q: marks %v; want %v", tc.q, got, tc.want)
		}
	}
}

// TestSearchPagesListEveryHitOnce: following the cursor, pages cut by
// limit and by the reply's bytes list every hit once, newest first, and
// a hit in a private room the user is not in is skipped without a gap.
func TestSearchPagesListEveryHitOnce(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.RequestRate, c.SendRate, c.ReplyBytes = -1, -1, 2000 })
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bob := dialToken(t, ts, register(t, ts, "bob", "bob's password"))
	alice.do(`{"type":"create","id":"c","room":"secret","private":true}`)
	alice.do(`{"type":"join","id":"j","room":"secret"}`)
	alice.do(`{"type":"join","id":"j","room":"open"}`)
	var want []string
	for i := 1; i <= 40; i++ {
		room := "open"
		if i%3 == 0 {
			room = "secret"
		}
		text := fmt.Sprintf("match %d %s", i, strings.Repeat("x", 10*i))
		r := alice.do(fmt.Sprintf(`{"type":"send","id":"s","room":%q,"text":%q}`, room, text))
		if room == "open" {
			want = append(want, fmt.Sprintf("open/%v", r["seq"]))
		}
	}
	slices.Reverse(want)
	for _, limit := range []int{1, 4, 100} {
		var got []string
		cursor := ""
		for page := 0; ; page++ {
			if page > 100 {
				t.Fatalf("limit %d: no end of pages", limit)
			}
			req := fmt.Sprintf(`{"type":"search","id":"q","q":"match","limit":%d`, limit)
			if cursor != "" {
				req += fmt.Sprintf(`,"cursor":%q`, cursor)
			}
			r := bob.do(req + "}")
			got = append(got, hitsOf(t, r)...)
			if r["more"] != true {
				break
			}
			cursor, _ = r["cursor"].(string)
			if cursor == "" {
				t.Fatalf("more without a cursor: %v", r)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: pages list %v; want %v", limit, got, want)
		}
	}
}

// TestSearchIsRateLimited: searches take from a bucket of their own, and
// the refusal says when to try again.
func TestSearchIsRateLimited(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	c := dialJSON(t, ts, "name=dave")
	for i := 0; ; i++ {
		r := c.request(`{"type":"search","id":"q","q":"anything"}`)
		if r["type"] == "error" {
			if r["code"] != "rate_limited" || r["retry_after_ms"] == nil || i < 10 {
				t.Fatalf("search %d: %v; want rate_limited after the burst of 10", i, r)
			}
			break
		}
		if i > 10 {
			t.Fatalf("search %d still accepted", i)
		}
	}
	if r := c.request(`{"type":"history","id":"h","room":"r"}`); r["type"] != "ack" {
		t.Fatalf("a history request after searches: %v", r)
	}
}

// TestHistoryAround: a history page around a seq holds it and the
// messages on both sides, and around is given alone.
func TestHistoryAround(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.RequestRate, c.SendRate = -1, -1 })
	c := dialJSON(t, ts, "name=erin")
	c.do(`{"type":"join","id":"j","room":"r"}`)
	for i := 1; i <= 20; i++ {
		c.do(fmt.Sprintf(`{"type":"send","id":"s","room":"r","text":"m%d"}`, i))
	}
	seqs := func(r map[string]any) []string {
		var out []string
		for _, m := range r["messages"].([]any) {
			out = append(out, fmt.Sprint(m.(map[string]any)["seq"]))
		}
		return out
	}
	cases := []struct {
		req  string
		want []string
		more bool
	}{
		{`"around":10,"limit":5`, []string{"8", "9", "10", "11", "12"}, true},
		{`"around":10,"limit":4`, []string{"9", "10", "11", "12"}, true},
		{`"around":1,"limit":5`, []string{"1", "2", "3", "4", "5"}, false},
		{`"around":20,"limit":5`, []string{"16", "17", "18", "19", "20"}, true},
		{`"around":99,"limit":3`, []string{"18", "19", "20"}, true},
	}
	for _, tc := range cases {
		r := c.do(`{"type":"history","id":"h","room":"r",` + tc.req + `}`)
		if got := seqs(r); !slices.Equal(got, tc.want) || (r["more"] == true) != tc.more {
			t.Errorf("%s: %v, more %v; want %v, more %v", tc.req, got, r["more"], tc.want, tc.more)
		}
	}
	for _, req := range []string{`"around":5,"before":9`, `"around":5,"after":1`} {
		if r := c.request(`{"type":"history","id":"h","room":"r",` + req + `}`); r["code"] != "bad_request" {
			t.Errorf("%s: %v; want bad_request", req, r)
		}
	}
}
