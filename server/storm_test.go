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

// TestAReactionStormReachesMembersInFewFrames: many members reacting to
// one message at once reach a reader in far fewer frames than reactions,
// as reactions frames carrying the message's state after runs of them,
// while every seq is covered once, in order; the reader ends in the state
// history gives, and a client that recovers with since from the end of a
// reactions frame converges to it too. A plain-text client sees none of it.
func TestAReactionStormReachesMembersInFewFrames(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   func(t *testing.T) store.Store
	}{
		{"SQLite", func(t *testing.T) store.Store { return servertest.SQLite(t) }},
		{"PostgreSQL", func(t *testing.T) store.Store { st, _ := postgresSchema(t); return st }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t, server.Config{Store: tc.st(t), SendRate: -1, RequestRate: -1})
			alice := dialJSON(t, ts, "room=r&name=alice")
			reader := dialJSON(t, ts, "room=r&name=reader")
			plain := dial(t, ts, "room=r&name=plain")
			const users, toggles = 12, 5
			var crowd []*jsonClient
			for i := range users {
				crowd = append(crowd, dialJSON(t, ts, fmt.Sprintf("room=r&name=u%d", i)))
			}
			alice.do(`{"type":"send","id":"1","room":"r","text":"react to me"}`)

			// Each user gives 👍 and takes it back toggles times, then gives
			// it for good, without waiting for the acks.
			reacts := 0
			for k := range 2*toggles + 1 {
				typ := []string{"react", "unreact"}[k%2]
				for _, c := range crowd {
					c.send(fmt.Sprintf(`{"type":%q,"id":"%d","room":"r","target":1,"emoji":"👍"}`, typ, k))
					reacts++
				}
			}
			for _, c := range crowd {
				for acks := 0; acks < 2*toggles+1; {
					switch r := c.event(); r["type"] {
					case "ack":
						acks++
					case "error":
						t.Fatalf("a reaction of the storm: %v", r)
					}
				}
			}
			alice.do(`{"type":"send","id":"2","room":"r","text":"after"}`)

			var live []map[string]any
			frames, covered := 0, uint64(0)
			for {
				ev := nextInSequence(t, reader, &covered)
				live = append(live, ev)
				if ev["type"] != "message" {
					frames++
				}
				if ev["text"] == "after" {
					break
				}
			}
			if covered != uint64(reacts)+2 {
				t.Fatalf("the reader's events cover seqs 1 to %d, want 1 to %d", covered, reacts+2)
			}
			t.Logf("%d reactions reached the reader in %d frames", reacts, frames)
			if frames > reacts/2 {
				t.Fatalf("%d reactions reached the reader in %d frames, want at most %d", reacts, frames, reacts/2)
			}
			want := reactionState(live)
			var listed []string
			for i := range users {
				listed = append(listed, fmt.Sprintf("u%d", i))
			}
			slices.Sort(listed)
			if exp := "1:👍=" + strings.Join(listed, ","); want != exp {
				t.Fatalf("the reader's state %s, want %s", want, exp)
			}
			page := dialJSON(t, ts, "name=pager").do(`{"type":"history","id":"h","room":"r"}`)
			var hist []map[string]any
			for _, m := range page["messages"].([]any) {
				hist = append(hist, m.(map[string]any))
			}
			if got := reactionState(hist); got != want {
				t.Fatalf("history's state %s, the reader's %s", got, want)
			}

			// Recover from the end of the first reactions frame.
			i := slices.IndexFunc(live, func(ev map[string]any) bool { return ev["type"] == "reactions" })
			since := int(live[i]["seq"].(float64))
			rec := dialJSON(t, ts, "name=rec")
			replayed, ack := rec.joinCollectAll(fmt.Sprintf(`{"type":"join","id":"j","room":"r","since":%d}`, since))
			if ack["type"] != "ack" || len(replayed) != reacts+2-since {
				t.Fatalf("recovery since %d: %d events, %v", since, len(replayed), ack)
			}
			if got := reactionState(append(slices.Clone(live[:i+1]), replayed...)); got != want {
				t.Fatalf("the state recovered since %d: %s, the reader's %s", since, got, want)
			}
			for _, w := range []string{"react to me", "after"} {
				if got := plain.read(); got != w {
					t.Fatalf("the plain-text client read %q, want %q", got, w)
				}
			}
		})
	}
}

// nextInSequence reads c's events up to the next one of the room's
// sequence (a message, a change, a run's reactions), checks that it
// covers the numbers right after covered, with no gap and no repeat, and
// moves covered to its last.
func nextInSequence(t *testing.T, c *jsonClient, covered *uint64) map[string]any {
	t.Helper()
	for {
		ev := c.event()
		switch ev["type"] {
		case "message", "react", "unreact", "reactions":
		default:
			continue
		}
		first, seq := ev["seq"].(float64), ev["seq"].(float64)
		if ev["type"] == "reactions" {
			first = ev["first"].(float64)
		}
		if uint64(first) != *covered+1 || seq < first {
			t.Fatalf("after seq %d the reader got %v", *covered, ev)
		}
		*covered = uint64(seq)
		return ev
	}
}
