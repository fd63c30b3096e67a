package server_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
)

// TestAPopularMessageIsCountedAndItsLimitsHoldForEveryone: a message that
// more users react to than a reaction lists reads, in history and in the
// reactions frame of a run, the whole count with the first users named;
// and a user beyond the named ones is held to their own limit, and may
// give again what they gave, as one named is.
func TestAPopularMessageIsCountedAndItsLimitsHoldForEveryone(t *testing.T) {
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
			alice.do(`{"type":"send","id":"1","room":"r","text":"react to me"}`)
			const users = 24
			var crowd []*jsonClient
			var names []string
			for i := range users {
				crowd = append(crowd, dialJSON(t, ts, fmt.Sprintf("room=r&name=u%02d", i)))
				names = append(names, fmt.Sprintf("u%02d", i))
			}
			for _, c := range crowd {
				c.do(`{"type":"react","id":"r","room":"r","target":1,"emoji":"👍"}`)
			}

			last := crowd[users-1] // not among the users named
			for i := range 4 {
				last.do(fmt.Sprintf(`{"type":"react","id":"e%d","room":"r","target":1,"emoji":":e%d:"}`, i, i))
			}
			if r := last.request(`{"type":"react","id":"e4","room":"r","target":1,"emoji":":e4:"}`); r["type"] != "error" || r["code"] != "reaction_limit" {
				t.Fatalf("a sixth reaction by %s: %v; want reaction_limit", names[users-1], r)
			}
			last.do(`{"type":"react","id":"again","room":"r","target":1,"emoji":"👍"}`)

			page := dialJSON(t, ts, "name=pager").do(`{"type":"history","id":"h","room":"r","limit":1,"before":2}`)
			msgs := page["messages"].([]any)
			if len(msgs) != 1 {
				t.Fatalf("history: %v", page)
			}
			rs := msgs[0].(map[string]any)["reactions"].([]any)
			thumbs := rs[0].(map[string]any)
			var listed []string
			for _, u := range thumbs["users"].([]any) {
				listed = append(listed, u.(string))
			}
			if len(rs) != 5 || thumbs["emoji"] != "👍" || thumbs["count"] != float64(users) ||
				!slices.Equal(listed, names[:store.ReactionUsersListed]) {
				t.Fatalf("history's reactions of message 1: %v; want 👍 counted %d naming %v, then 4 more", rs, users, names[:store.ReactionUsersListed])
			}
		})
	}
}
