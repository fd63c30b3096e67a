package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// users returns "u00", "u01", ... for the numbers from to to, in order,
// skipping those in but.
func users(from, to int, but ...int) []string {
	var out []string
	for i := from; i <= to; i++ {
		if !slices.Contains(but, i) {
			out = append(out, fmt.Sprintf("u%02d", i))
		}
	}
	return out
}

// checkReactions checks the reactions that After reads on room's message
// target.
func checkReactions(t *testing.T, st store.Store, room string, target uint64, exp []store.Reaction) {
	t.Helper()
	got, err := st.After(ctx(t), room, target-1, 1)
	if err != nil || len(got) != 1 || got[0].Seq != target {
		t.Fatalf("After(%q, %d, 1) = %+v, %v; want message %d", room, target-1, got, err, target)
	}
	if len(got[0].Reactions) != len(exp) || len(exp) > 0 && !reflect.DeepEqual(got[0].Reactions, exp) {
		t.Fatalf("message %s/%d has reactions %+v; want %+v", room, target, got[0].Reactions, exp)
	}
}

// checkReactionsBy checks ReactionsBy.
func checkReactionsBy(t *testing.T, st store.Store, room string, target uint64, user string, exp ...string) {
	t.Helper()
	got, err := st.ReactionsBy(ctx(t), room, target, user)
	if err != nil || len(got) != len(exp) || len(exp) > 0 && !slices.Equal(got, exp) {
		t.Fatalf("ReactionsBy(%q, %d, %q) = %q, %v; want %q", room, target, user, got, err, exp)
	}
}

// testReactionCounts: a message's reactions read each emoji's exact count
// and its first store.ReactionUsersListed users, in the order they gave
// it, through reacts, repeats, unreacts, toggles and unreacts of what was
// not given; emoji are in the order of their first user still giving
// them; Append's tally reads the same; ReactionsBy reads one user's
// emoji; a delete and retention leave nothing of the reactions they take.
func (s *suite) testReactionCounts(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2))
	batch := []store.Message{react("a", 3, store.ChangeReact, 1, "u00", "🎉")}
	for i, u := range users(0, 24) {
		batch = append(batch, react("a", uint64(4+i), store.ChangeReact, 1, u, "👍"))
	}
	batch = append(batch,
		react("a", 29, store.ChangeReact, 1, "u03", "👍"), // again: no change
		react("a", 30, store.ChangeReact, 1, "u01", "🎉"))
	mustAppend(t, st, batch)
	exp := []store.Reaction{
		{Emoji: "🎉", Count: 2, Users: users(0, 1)},
		{Emoji: "👍", Count: 25, Users: users(0, 19)},
	}
	if end := batch[len(batch)-1]; !end.Tally || !reflect.DeepEqual(end.Reactions, exp) {
		t.Fatalf("the storm's tally: %v %+v; want %+v", end.Tally, end.Reactions, exp)
	}
	checkReactions(t, st, "a", 1, exp)
	checkReactions(t, st, "a", 2, nil)
	checkReactionsBy(t, st, "a", 1, "u00", "🎉", "👍")
	checkReactionsBy(t, st, "a", 1, "u24", "👍")
	checkReactionsBy(t, st, "a", 1, "nobody")
	checkReactionsBy(t, st, "a", 2, "u00")

	// u00 takes both back: 🎉's first user is now u01, after 👍's u01. u02
	// toggles 👍 and is listed last; u99 takes back what it never gave.
	mustAppend(t, st, []store.Message{
		react("a", 31, store.ChangeUnreact, 1, "u00", "🎉"),
		react("a", 32, store.ChangeUnreact, 1, "u00", "👍"),
		react("a", 33, store.ChangeUnreact, 1, "u02", "👍"),
		react("a", 34, store.ChangeReact, 1, "u02", "👍"),
		react("a", 35, store.ChangeUnreact, 1, "u99", "👍"),
		react("a", 36, store.ChangeUnreact, 1, "u99", "🚀"),
	})
	exp = []store.Reaction{
		{Emoji: "👍", Count: 24, Users: users(1, 21, 2)},
		{Emoji: "🎉", Count: 1, Users: users(1, 1)},
	}
	checkReactions(t, st, "a", 1, exp)
	checkReactionsBy(t, st, "a", 1, "u00")
	checkReactionsBy(t, st, "a", 1, "u02", "👍")

	// Taken back by all but one, then by that one too.
	var unreacts []store.Message
	for i, u := range users(3, 24) {
		unreacts = append(unreacts, react("a", uint64(37+i), store.ChangeUnreact, 1, u, "👍"))
	}
	mustAppend(t, st, unreacts) // 37 to 58
	checkReactions(t, st, "a", 1, []store.Reaction{
		{Emoji: "👍", Count: 2, Users: []string{"u01", "u02"}},
		{Emoji: "🎉", Count: 1, Users: users(1, 1)},
	})
	mustAppend(t, st, []store.Message{
		react("a", 59, store.ChangeUnreact, 1, "u01", "👍"),
		react("a", 60, store.ChangeUnreact, 1, "u02", "👍"),
		react("a", 61, store.ChangeReact, 1, "u05", "👍"), // counted again from 1
	})
	checkReactions(t, st, "a", 1, []store.Reaction{
		{Emoji: "🎉", Count: 1, Users: users(1, 1)},
		{Emoji: "👍", Count: 1, Users: users(5, 5)},
	})

	// A delete takes them all; a react after it counts nothing.
	mustAppend(t, st, []store.Message{
		change("a", 62, store.ChangeDelete, 1, ""),
		react("a", 63, store.ChangeReact, 1, "u06", "👍"),
		react("a", 64, store.ChangeReact, 2, "u06", "👍"),
	})
	checkReactions(t, st, "a", 1, nil)
	checkReactionsBy(t, st, "a", 1, "u01")
	checkReactions(t, st, "a", 2, []store.Reaction{{Emoji: "👍", Count: 1, Users: users(6, 6)}})

	// Retention takes message 1 of b with its reactions, and leaves
	// message 3's counted.
	st = s.newStore(t)
	mustAppend(t, st, msgs("b", 1, 2, 3))
	mustAppend(t, st, []store.Message{
		react("b", 4, store.ChangeReact, 1, "u01", "👍"),
		react("b", 5, store.ChangeReact, 1, "u02", "👍"),
		react("b", 6, store.ChangeReact, 3, "u01", "🎉"),
		react("b", 7, store.ChangeReact, 3, "u02", "🎉"),
		react("b", 8, store.ChangeReact, 3, "u03", "🎉"),
	})
	if n := trim(t, st, base.Add(time.Hour), 0, 6); n != 4 {
		t.Fatalf("Trim deleted %d, want 4 (messages 1 and 2 of b and the reactions to 1)", n)
	}
	checkReactions(t, st, "b", 3, []store.Reaction{{Emoji: "🎉", Count: 3, Users: users(1, 3)}})
	checkReactionsBy(t, st, "b", 1, "u01")
	checkReactionsBy(t, st, "b", 3, "u01", "🎉")
}
