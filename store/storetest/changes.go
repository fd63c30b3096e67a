package storetest

import (
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// change is a change of room's message target, stored as message seq.
func change(room string, seq uint64, c store.Change, target uint64, text string) store.Message {
	m := msg(room, seq)
	m.Change, m.Target, m.Text = c, target, text
	return m
}

// testChanges: an edit replaces its target's text and sets Edited; a
// delete removes the text of the target and of its edits, and marks the
// target deleted; an edit after a delete changes nothing. Reads return
// every message in its current state and the changes in the sequence.
func (s *suite) testChanges(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2, 3))
	mustAppend(t, st, msgs("b", 1))
	edit := change("a", 4, store.ChangeEdit, 2, "fixed")
	mustAppend(t, st, []store.Message{edit})

	m2 := msg("a", 2)
	m2.Text, m2.Edited = "fixed", edit.Time
	checkAfter(t, st, "a", 0, 10, []store.Message{msg("a", 1), m2, msg("a", 3), edit})
	checkBefore(t, st, "a", 0, 2, []store.Message{msg("a", 3), edit})
	checkAfter(t, st, "b", 0, 10, msgs("b", 1)) // same seq, other room: unchanged

	del := change("a", 5, store.ChangeDelete, 2, "")
	late := change("a", 6, store.ChangeEdit, 2, "too late")
	mustAppend(t, st, []store.Message{del})
	mustAppend(t, st, []store.Message{late})
	m2.Text, m2.Deleted = "", true
	gone := edit
	gone.Text, gone.Deleted = "", true // the delete took the edit's text too
	checkAfter(t, st, "a", 0, 10, []store.Message{msg("a", 1), m2, msg("a", 3), gone, del, late})
	checkLastSeq(t, st, "a", 6)

	// A change to a message that is not there, or to a change, changes
	// nothing but is stored.
	stray := change("a", 7, store.ChangeEdit, 99, "nothing")
	mustAppend(t, st, []store.Message{stray, change("a", 8, store.ChangeDelete, 7, "")})
	got, err := st.After(ctx(t), "a", 6, 1)
	if err != nil || len(got) != 1 || !sameMessage(got[0], stray) {
		t.Fatalf("after a delete that targets an edit, the edit reads %+v, %v; want %+v", got, err, stray)
	}
}

// testChangesInOneBatch: changes apply in their order within one Append,
// also to a message of the same batch.
func (s *suite) testChangesInOneBatch(t *testing.T) {
	st := s.newStore(t)
	batch := []store.Message{
		msg("a", 1),
		change("a", 2, store.ChangeEdit, 1, "one"),
		msg("a", 3),
		change("a", 4, store.ChangeDelete, 3, ""),
		change("a", 5, store.ChangeEdit, 1, "two"),
	}
	mustAppend(t, st, batch)
	m1 := msg("a", 1)
	m1.Text, m1.Edited = "two", batch[4].Time
	m3 := msg("a", 3)
	m3.Text, m3.Deleted = "", true
	checkAfter(t, st, "a", 0, 10, []store.Message{m1, batch[1], m3, batch[3], batch[4]})
}

// testNumberedChanges: AppendNumbered applies changes like Append, and a
// repeated change (same client id) is applied once.
func (s *suite) testNumberedChanges(t *testing.T) {
	sq := s.sequencer(t)
	first := []store.Message{unnumbered("a", 1)}
	if _, err := sq.AppendNumbered(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	edit := withID("a", first[0].From, "e1", "edited")
	edit.Change, edit.Target, edit.Time = store.ChangeEdit, first[0].Seq, base.Add(time.Hour)
	batch := []store.Message{edit}
	if _, err := sq.AppendNumbered(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	again := []store.Message{edit}
	again[0].Text = "a retry must not apply"
	repeats, err := sq.AppendNumbered(ctx(t), again)
	if err != nil || len(repeats) != 1 {
		t.Fatalf("a repeated edit: repeats %v, %v; want [0]", repeats, err)
	}
	got, err := sq.After(ctx(t), "a", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Text != "edited" || !got[0].Edited.Equal(edit.Time.Truncate(time.Microsecond)) ||
		got[1].Change != store.ChangeEdit || got[1].Target != first[0].Seq {
		t.Fatalf("after a numbered edit: %+v", got)
	}
}
