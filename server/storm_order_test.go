package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestMessagesInterleavedWithAStormConverge: while members react and
// unreact to one message without waiting for their acks, others (and some
// of the reactors) send messages, which the store may take ahead of the
// reactions queued before them. A member online throughout sees every
// seq once, in order, each sender's messages in the order they were sent,
// and each connection is told increasing seqs in the order of its
// requests; a client that recovers with since from a message sent during
// the storm, one that recovers from the start and the history all end in
// the online member's state and order.
func TestMessagesInterleavedWithAStormConverge(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), SendRate: -1, RequestRate: -1})
	alice := dialJSON(t, ts, "room=r&name=alice")
	reader := dialJSON(t, ts, "room=r&name=reader")
	const reactors, talkers, rounds = 20, 3, 9
	clients := map[string]*jsonClient{}
	var names []string
	for i := range reactors {
		names = append(names, fmt.Sprintf("u%d", i))
	}
	for i := range talkers {
		names = append(names, fmt.Sprintf("t%d", i))
	}
	for _, n := range names {
		clients[n] = dialJSON(t, ts, "room=r&name="+n)
	}
	talks := func(n string) bool { return n[0] == 't' || n == "u0" || n == "u1" || n == "u2" }
	alice.do(`{"type":"send","id":"1","room":"r","text":"react to me"}`)

	// Each reactor gives 👍 to message 1 and takes it back in turn, ending
	// with it given, and the first three send a message after each of
	// their reactions; each talker sends a message each round. Nobody
	// waits for an ack.
	requests := map[string]int{}
	total := 1
	for k := range rounds {
		typ := []string{"react", "unreact"}[k%2]
		for _, n := range names {
			c := clients[n]
			if n[0] == 'u' {
				c.send(fmt.Sprintf(`{"type":%q,"id":"r%d","room":"r","target":1,"emoji":"👍"}`, typ, k))
				requests[n]++
				total++
			}
			if talks(n) {
				c.send(fmt.Sprintf(`{"type":"send","id":"m%d","room":"r","text":"%s-%d"}`, k, n, k))
				requests[n]++
				total++
			}
		}
	}
	for _, n := range names {
		var last float64
		for acks := 0; acks < requests[n]; {
			switch r := clients[n].event(); r["type"] {
			case "ack":
				seq, _ := r["seq"].(float64)
				if seq <= last {
					t.Fatalf("%s was told seq %v after %v (ack %v)", n, seq, last, r)
				}
				last = seq
				acks++
			case "error":
				t.Fatalf("%s: %v", n, r)
			}
		}
	}
	alice.do(`{"type":"send","id":"2","room":"r","text":"after"}`)
	total++

	var live []map[string]any
	var texts []string
	covered := uint64(0)
	for {
		ev := nextInSequence(t, reader, &covered)
		live = append(live, ev)
		if ev["type"] == "message" {
			texts = append(texts, ev["text"].(string))
		}
		if ev["text"] == "after" {
			break
		}
	}
	if covered != uint64(total) {
		t.Fatalf("the reader's events cover seqs 1 to %d, want 1 to %d", covered, total)
	}
	for _, n := range names {
		var mine []string
		for _, s := range texts {
			if from, _, _ := strings.Cut(s, "-"); from == n {
				mine = append(mine, s)
			}
		}
		if !slices.IsSorted(mine) || talks(n) && len(mine) != rounds {
			t.Fatalf("the reader got %s's messages as %v", n, mine)
		}
	}
	want := reactionState(live)
	var reacted []string
	for i := range reactors {
		reacted = append(reacted, fmt.Sprintf("u%d", i))
	}
	slices.Sort(reacted)
	if exp := "1:👍=" + strings.Join(reacted, ","); want != exp {
		t.Fatalf("the reader's state %s, want %s", want, exp)
	}

	page := dialJSON(t, ts, "name=pager").do(`{"type":"history","id":"h","room":"r","limit":500}`)
	var hist []map[string]any
	for _, m := range page["messages"].([]any) {
		hist = append(hist, m.(map[string]any))
	}
	if got := reactionState(hist); got != want {
		t.Fatalf("history's state %q, the reader's %q", got, want)
	}
	if got := messageTexts(hist); !slices.Equal(got, texts) {
		t.Fatalf("history's messages %v, the reader's %v", got, texts)
	}

	i := slices.IndexFunc(live, func(ev map[string]any) bool { return ev["text"] == "t0-2" })
	since := int(live[i]["seq"].(float64))
	for _, from := range []int{since, 0} {
		rec := dialJSON(t, ts, fmt.Sprintf("name=rec%d", from))
		replayed, ack := rec.joinCollectAll(fmt.Sprintf(`{"type":"join","id":"j","room":"r","since":%d}`, from))
		if ack["type"] != "ack" || len(replayed) != total-from {
			t.Fatalf("recovery since %d: %d events, %v", from, len(replayed), ack)
		}
		for k, ev := range replayed {
			if int(ev["seq"].(float64)) != from+k+1 {
				t.Fatalf("recovery since %d: event %d is %v", from, k, ev)
			}
		}
		before := live[:0]
		if from > 0 {
			before = live[:i+1]
		}
		if got := reactionState(append(slices.Clone(before), replayed...)); got != want {
			t.Fatalf("the state recovered since %d: %q, the reader's %q", from, got, want)
		}
		if got := messageTexts(append(slices.Clone(before), replayed...)); !slices.Equal(got, texts) {
			t.Fatalf("the messages recovered since %d: %v, the reader's %v", from, got, texts)
		}
	}
}

// messageTexts lists the texts of the chat messages among events.
func messageTexts(events []map[string]any) []string {
	var texts []string
	for _, ev := range events {
		if ev["type"] == "message" {
			texts = append(texts, ev["text"].(string))
		}
	}
	return texts
}
