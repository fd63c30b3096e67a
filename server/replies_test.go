package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// bigHistory stores n messages of the largest size the server accepts, all
// '<', so that the room's history is several times the outbound queue.
func bigHistory(t *testing.T, ts *servertest.Server, room string, n int) string {
	t.Helper()
	text := strings.Repeat("<", 65000)
	poster := dialJSON(t, ts, "name=poster&room="+room+"&history=0")
	for i := range n {
		poster.do(fmt.Sprintf(`{"type":"send","id":"%d","room":%q,"text":%q}`, i, room, text))
	}
	return text
}

func TestReplaysAndHistoryOfLargeMessagesReachAClientReadingAtNetworkPace(t *testing.T) {
	const n = 20
	cases := []struct {
		name  string
		first string // the request that asks for the whole history
	}{
		{"join", fmt.Sprintf(`{"type":"join","id":"j","room":"big","history":%d}`, n)},
		{"history", fmt.Sprintf(`{"type":"history","id":"h","room":"big","limit":%d}`, n)},
		{"join since", `{"type":"join","id":"j","room":"big","since":1}`},
		{"history after", fmt.Sprintf(`{"type":"history","id":"h","room":"big","after":1,"limit":%d}`, n)},
	}
	st := servertest.SQLite(t)
	ts := startNetworked(t, server.Config{Store: st, SendRate: -1, SendByteRate: -1})
	text := bigHistory(t, ts, "big", n)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialPaced(t, ts, fmt.Sprint("name=reader", i), nil)
			msgs, ack := c.request(tc.first)
			if ack["type"] != "ack" {
				t.Fatalf("reply %v", ack)
			}
			msgs = append(msgs, pageMessages(ack)...)
			got := map[int]bool{}
			for _, m := range msgs {
				if m["text"] != text {
					t.Fatalf("message %v has text of %d bytes, not the %d '<' sent", m["seq"], len(m["text"].(string)), len(text))
				}
				got[int(m["seq"].(float64))] = true
			}
			// Page on in the direction of the request until the server says
			// there is no more.
			forward := strings.Contains(tc.first, "since") || strings.Contains(tc.first, "after")
			for ack["more"] == true {
				s := seqs(msgs)
				var req string
				if forward {
					req = fmt.Sprintf(`{"type":"history","room":"big","after":%d}`, s[len(s)-1])
				} else {
					req = fmt.Sprintf(`{"type":"history","room":"big","before":%d}`, s[0])
				}
				var page []map[string]any
				page, ack = c.request(req)
				if ack["type"] != "ack" || len(page) > 0 {
					t.Fatalf("reply to %s: %v", req, ack)
				}
				page = pageMessages(ack)
				if len(page) == 0 {
					t.Fatalf("%s: more without messages", req)
				}
				if forward {
					msgs = append(msgs, page...)
				} else {
					msgs = append(page, msgs...)
				}
				for _, m := range page {
					got[int(m["seq"].(float64))] = true
				}
			}
			from := 1
			if forward {
				from = 2
			}
			for seq := from; seq <= n; seq++ {
				if !got[seq] {
					t.Fatalf("message %d never arrived; got %v", seq, seqs(msgs))
				}
			}
		})
	}
}

func TestManyRequestsSentAtOnceArePacedByTheClientsReading(t *testing.T) {
	st := servertest.SQLite(t)
	ts := startNetworked(t, server.Config{Store: st, SendRate: -1, SendByteRate: -1, RequestRate: -1})
	bigHistory(t, ts, "big", 20)
	c := dialPaced(t, ts, "name=reader", nil)
	// Each reply is within the reply limit, about 200 KB, but eight of
	// them are more than the 1 MiB queue.
	const n = 8
	for i := range n {
		c.send(fmt.Sprintf(`{"type":"history","id":"%d","room":"big","before":%d}`, i, 21-i))
	}
	for i := range n {
		if _, ack := c.request(""); ack["type"] != "ack" || ack["id"] != fmt.Sprint(i) || len(pageMessages(ack)) == 0 {
			t.Fatalf("reply %d: %v", i, ack["id"])
		}
	}
	if ev := ts.Stats(); ev.SlowEvictions != 0 {
		t.Fatalf("%d slow-consumer evictions", ev.SlowEvictions)
	}
}

func TestAJSONClientThatAsksButNeverReadsIsStillEvicted(t *testing.T) {
	st := servertest.SQLite(t)
	ts := startNetworked(t, server.Config{Store: st, QueueBytes: 256 << 10, SendRate: -1, SendByteRate: -1, RequestRate: -1})
	bigHistory(t, ts, "big", 8)
	slow := dialPaced(t, ts, "name=slow&room=busy&history=0", nil)
	for i := range 8 {
		slow.send(fmt.Sprintf(`{"type":"history","id":"%d","room":"big"}`, i))
	}
	// slow reads nothing from here on; the room's traffic fills its queue.
	sender := dialJSON(t, ts, "name=sender&room=busy&history=0")
	fast := dialJSON(t, ts, "name=fast&room=busy&history=0")
	text := strings.Repeat("x", 16<<10)
	for i := 0; ts.Stats().SlowEvictions == 0; i++ {
		if i == 1000 {
			t.Fatal("16 MB sent to a client that reads nothing, and it is still connected")
		}
		sender.do(fmt.Sprintf(`{"type":"send","room":"busy","text":%q}`, text))
		fast.expect("message")
	}
	for {
		if _, err := slow.next(); err != nil {
			if !strings.Contains(err.Error(), "1013") {
				t.Fatalf("the client that stopped reading: %v, want close 1013", err)
			}
			return
		}
	}
}

// pageMessages returns the messages of a history ack.
func pageMessages(ack map[string]any) []map[string]any {
	list, _ := ack["messages"].([]any)
	out := make([]map[string]any, len(list))
	for i, m := range list {
		out[i] = m.(map[string]any)
	}
	return out
}

func TestARoomsListLongerThanTheQueueIsPagedToAClientReadingAtNetworkPace(t *testing.T) {
	const conns, perConn = 16, 100 // 1,600 rooms of 60-character names: ~140 KB of list
	ts := startNetworked(t, server.Config{QueueBytes: 128 << 10, SendRate: -1})
	want := map[string]bool{}
	for i := range conns {
		c := dialJSON(t, ts, fmt.Sprint("name=squatter", i))
		for j := range perConn {
			room := fmt.Sprintf("%s-%03d-%03d", strings.Repeat("r", 52), i, j)
			want[room] = true
			c.send(fmt.Sprintf(`{"type":"join","room":%q,"history":0}`, room))
		}
		for range perConn {
			c.expect("ack")
		}
	}
	reader := dialPaced(t, ts, "name=reader", nil)
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		_, ack := reader.request(fmt.Sprintf(`{"type":"rooms","cursor":%q}`, cursor))
		if ack["type"] != "ack" {
			t.Fatalf("rooms: %v", ack)
		}
		pages++
		list, _ := ack["rooms"].([]any)
		for _, r := range list {
			name := r.(map[string]any)["room"].(string)
			if got[name] {
				t.Fatalf("room %s listed twice", name)
			}
			got[name] = true
		}
		if ack["more"] != true {
			break
		}
		if cursor = ack["cursor"].(string); cursor == "" || len(list) == 0 {
			t.Fatalf("more without a cursor or rooms: %v", ack)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d rooms in %d pages, want %d", len(got), pages, len(want))
	}
	if pages < 2 {
		t.Fatalf("a list larger than the queue came in one reply")
	}
}

func TestABurstOfLargeMessagesIsChargedToItsSenderNotToAReadingRecipient(t *testing.T) {
	// JSON escapes the line separator U+2028 (3 bytes of UTF-8) as \u2028:
	// each message is a 63 KB request and a 126 KB event, and a dozen of
	// them more than the 1 MiB queue: two dozen arrive faster than any
	// reader drains them.
	text := strings.Repeat("\u2028", 21000)
	const n = 24
	cases := []struct {
		name    string
		request func(i int) string
		event   string
	}{
		{"dm", func(i int) string {
			return fmt.Sprintf(`{"type":"dm","id":"%d","to":"victim","text":"%d %s"}`, i, i, text)
		}, "dm"},
		{"room message", func(i int) string {
			return fmt.Sprintf(`{"type":"send","id":"%d","room":"r","text":"%d %s"}`, i, i, text)
		}, "message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startNetworked(t, server.Config{SendRate: -1, SendByteRate: 512 << 10})
			victim := dialPaced(t, ts, "name=victim&room=r&history=0", nil)
			sender := dialJSON(t, ts, "name=sender&room=r&history=0")
			sender.ws.SetReadLimit(1 << 20)

			got := make(chan int, n)
			failed := make(chan error, 1)
			go func() {
				for len(got) < n {
					ev, err := victim.next()
					if err != nil {
						failed <- err
						return
					}
					if ev["type"] == tc.event {
						var i int
						fmt.Sscan(ev["text"].(string), &i)
						got <- i
					}
				}
			}()

			// The sender sends everything at once, then sends again what was
			// refused, after waiting as it was told.
			for i := range n {
				sender.send(tc.request(i))
			}
			var refused []int
			for range n {
				reply := sender.expectReply()
				if reply["type"] == "error" {
					refused = append(refused, replyID(t, reply))
				}
			}
			limited := len(refused)
			for len(refused) > 0 {
				i := refused[0]
				sender.send(tc.request(i))
				if reply := sender.expectReply(); reply["type"] == "ack" {
					refused = refused[1:]
					continue
				}
				limited++
			}
			seen := map[int]bool{}
			for i := range n {
				select {
				case j := <-got:
					if seen[j] {
						t.Fatalf("the recipient got message %d twice", j)
					}
					seen[j] = true
				case err := <-failed:
					t.Fatalf("after %d messages, the recipient: %v", i, err)
				case <-time.After(10 * time.Second):
					t.Fatalf("the recipient got %d messages of %d", i, n)
				}
			}
			if limited == 0 {
				t.Fatal("a burst of more than the queue was never charged to the sender")
			}
			if ev := ts.Stats(); ev.SlowEvictions != 0 {
				t.Fatalf("%d slow-consumer evictions", ev.SlowEvictions)
			}
		})
	}
}

// expectReply reads events until a reply (ack or error) arrives, and
// checks that a refusal is rate_limited and says when to retry, waiting
// that long.
func (c *jsonClient) expectReply() map[string]any {
	c.t.Helper()
	for {
		ev := c.event()
		if ev["type"] == "ack" {
			return ev
		}
		if ev["type"] != "error" {
			continue
		}
		if ev["code"] != "rate_limited" {
			c.t.Fatalf("refused: %v", ev)
		}
		wait, _ := ev["retry_after_ms"].(float64)
		if wait <= 0 {
			c.t.Fatalf("rate_limited without retry_after_ms: %v", ev)
		}
		time.Sleep(time.Duration(wait) * time.Millisecond) // as the protocol tells a client
		return ev
	}
}

func replyID(t *testing.T, reply map[string]any) int {
	t.Helper()
	var i int
	if _, err := fmt.Sscan(reply["id"].(string), &i); err != nil {
		t.Fatalf("reply id %v", reply["id"])
	}
	return i
}
