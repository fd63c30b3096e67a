package storetest

import (
	"testing"

	"github.com/chatd/chatd/store"
)

// AppendForReactionCounts stores, in st, reactions for a test of the
// migration that counts them: the adapter's test then takes the schema
// back to before it (dropping the counts) and reopens the store, and
// CheckMigratedReactionCounts checks that the migration counted them.
func AppendForReactionCounts(t *testing.T, st store.Store) {
	t.Helper()
	mustAppend(t, st, msgs("a", 1, 2))
	batch := []store.Message{react("a", 3, store.ChangeReact, 1, "u00", "🎉")}
	for i, u := range users(0, 24) {
		batch = append(batch, react("a", uint64(4+i), store.ChangeReact, 1, u, "👍"))
	}
	batch = append(batch,
		react("a", 29, store.ChangeUnreact, 1, "u00", "👍"),
		react("a", 30, store.ChangeReact, 2, "u01", "🎉"))
	mustAppend(t, st, batch)
}

// CheckMigratedReactionCounts checks the reactions of
// AppendForReactionCounts in st, migrated, and that they are counted on
// from there.
func CheckMigratedReactionCounts(t *testing.T, st store.Store) {
	t.Helper()
	checkReactions(t, st, "a", 1, []store.Reaction{
		{Emoji: "🎉", Count: 1, Users: users(0, 0)},
		{Emoji: "👍", Count: 24, Users: users(1, 20)},
	})
	checkReactions(t, st, "a", 2, []store.Reaction{{Emoji: "🎉", Count: 1, Users: users(1, 1)}})
	mustAppend(t, st, []store.Message{
		react("a", 31, store.ChangeUnreact, 1, "u01", "👍"),
		react("a", 32, store.ChangeReact, 1, "u00", "👍"),
	})
	checkReactions(t, st, "a", 1, []store.Reaction{
		{Emoji: "🎉", Count: 1, Users: users(0, 0)},
		{Emoji: "👍", Count: 24, Users: users(2, 21)},
	})
	checkReactionsBy(t, st, "a", 1, "u00", "🎉", "👍")
}
