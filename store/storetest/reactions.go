package storetest

import (
	"reflect"
	"testing"

	"github.com/chatd/chatd/store"
)

// react is user's reaction change of room's message target, stored as
// message seq.
func react(room string, seq uint64, c store.Change, target uint64, user, emoji string) store.Message {
	m := change(room, seq, c, target, emoji)
	m.From = user
	return m
}

// testReactions: reacts and unreacts are stored in the sequence and
// aggregated on their target, emoji in the order first given and users in
// the order they reacted; a repeated react counts once; a react to a
// change or to a deleted message counts nothing; a delete removes its
// target's reactions.
func (s *suite) testReactions(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2))
	mustAppend(t, st, []store.Message{
		react("a", 3, store.ChangeReact, 1, "bob", "👍"),
		react("a", 4, store.ChangeReact, 1, "carol", "🎉"),
		react("a", 5, store.ChangeReact, 1, "alice", "👍"),
		react("a", 6, store.ChangeReact, 1, "bob", "👍"), // again: no change
		react("a", 7, store.ChangeReact, 2, "bob", ":tada:"),
	})
	mustAppend(t, st, []store.Message{react("a", 8, store.ChangeUnreact, 1, "carol", "🎉")})
	mustAppend(t, st, []store.Message{react("a", 9, store.ChangeReact, 8, "bob", "👍")}) // to a change

	got, err := st.After(ctx(t), "a", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	want1 := []store.Reaction{{Emoji: "👍", Count: 2, Users: []string{"bob", "alice"}}}
	want2 := []store.Reaction{{Emoji: ":tada:", Count: 1, Users: []string{"bob"}}}
	if len(got) != 2 || !reflect.DeepEqual(got[0].Reactions, want1) || !reflect.DeepEqual(got[1].Reactions, want2) {
		t.Fatalf("reactions after reacts = %+v; want %v and %v", got, want1, want2)
	}
	page, err := st.Before(ctx(t), "a", 2, 1)
	if err != nil || len(page) != 1 || !reflect.DeepEqual(page[0].Reactions, want1) {
		t.Fatalf("Before reads %+v, %v; want message 1 with %v", page, err, want1)
	}
	all, err := st.After(ctx(t), "a", 0, 20)
	if err != nil || len(all) != 9 {
		t.Fatalf("After reads %d messages, %v; want the 2 messages and 7 reactions", len(all), err)
	}
	for _, m := range all[2:] {
		if m.Reactions != nil || m.Change == store.ChangeNone {
			t.Fatalf("a reaction event reads %+v", m)
		}
	}
	if all[7].Change != store.ChangeUnreact || all[7].Target != 1 || all[7].Text != "🎉" || all[7].From != "carol" {
		t.Fatalf("the unreact reads %+v", all[7])
	}

	// A delete takes its target's reactions; a later react adds nothing.
	mustAppend(t, st, []store.Message{change("a", 10, store.ChangeDelete, 1, "")})
	mustAppend(t, st, []store.Message{react("a", 11, store.ChangeReact, 1, "bob", "🎉")})
	got, err = st.After(ctx(t), "a", 0, 2)
	if err != nil || len(got) != 2 || got[0].Reactions != nil || !reflect.DeepEqual(got[1].Reactions, want2) {
		t.Fatalf("after deleting message 1: %+v, %v", got, err)
	}
}

// testNumberedReactions: AppendNumbered applies reactions like Append,
// and a repeated react (same client id) is applied once.
func (s *suite) testNumberedReactions(t *testing.T) {
	sq := s.sequencer(t)
	first := []store.Message{unnumbered("a", 1)}
	if _, err := sq.AppendNumbered(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	r := withID("a", "bob", "r1", "👍")
	r.Change, r.Target = store.ChangeReact, first[0].Seq
	r2 := withID("a", "carol", "r2", "👍")
	r2.Change, r2.Target = store.ChangeReact, first[0].Seq
	if _, err := sq.AppendNumbered(ctx(t), []store.Message{r, r2}); err != nil {
		t.Fatal(err)
	}
	un := withID("a", "bob", "u1", "👍")
	un.Change, un.Target = store.ChangeUnreact, first[0].Seq
	if _, err := sq.AppendNumbered(ctx(t), []store.Message{un}); err != nil {
		t.Fatal(err)
	}
	if repeats, err := sq.AppendNumbered(ctx(t), []store.Message{r}); err != nil || len(repeats) != 1 {
		t.Fatalf("a repeated react: repeats %v, %v; want [0]", repeats, err)
	}
	got, err := sq.After(ctx(t), "a", 0, 1)
	want := []store.Reaction{{Emoji: "👍", Count: 1, Users: []string{"carol"}}}
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].Reactions, want) {
		t.Fatalf("after numbered reacts: %+v, %v; want %v", got, err, want)
	}
}
