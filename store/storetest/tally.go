package storetest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/chatd/chatd/store"
)

// testReactionTally: Append sets Tally, and the target's reactions just
// after it, on the last reaction of each run (reactions to one target
// that follow each other in their room, other rooms' messages between
// them not counting), and on no other message of the batch.
func (s *suite) testReactionTally(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2))
	batch := []store.Message{
		react("a", 3, store.ChangeReact, 1, "bob", "👍"),
		msg("b", 1), // another room's message does not end a's run
		react("a", 4, store.ChangeReact, 1, "carol", "👍"),
		react("a", 5, store.ChangeUnreact, 1, "bob", "👍"), // ends: 1 has 👍 carol
		react("a", 6, store.ChangeReact, 2, "bob", "🎉"),   // ends, before a message
		msg("a", 7),
		react("a", 8, store.ChangeReact, 2, "carol", "🎉"),
		react("a", 9, store.ChangeUnreact, 2, "carol", "🎉"),  // ends: 2 has 🎉 bob
		react("a", 10, store.ChangeReact, 99, "bob", "👍"),    // ends: no such message
		react("a", 11, store.ChangeUnreact, 1, "carol", "👍"), // ends: 1 has none
	}
	mustAppend(t, st, batch)
	want := map[uint64][]store.Reaction{
		5:  {{Emoji: "👍", Count: 1, Users: []string{"carol"}}},
		6:  {{Emoji: "🎉", Count: 1, Users: []string{"bob"}}},
		9:  {{Emoji: "🎉", Count: 1, Users: []string{"bob"}}},
		10: nil,
		11: nil,
	}
	for _, m := range batch {
		exp, end := want[m.Seq]
		if m.Room != "a" {
			end = false
		}
		if m.Tally != end || len(m.Reactions) != len(exp) || len(exp) > 0 && !reflect.DeepEqual(m.Reactions, exp) {
			t.Errorf("%s/%d after Append: Tally %v, Reactions %v; want %v, %v", m.Room, m.Seq, m.Tally, m.Reactions, end, exp)
		}
	}
	// Reads never tally.
	all, err := st.After(ctx(t), "a", 2, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Tally || m.Change != store.ChangeNone && m.Reactions != nil {
			t.Fatalf("a read returns %s", fmt.Sprintf("%+v", m))
		}
	}
}
