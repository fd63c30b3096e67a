package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// testTrimTakesChanges: retention removes a message together with every
// change that names it (edits, deletes, reactions), even a change newer
// than the messages it keeps, so that no replay carries a change of a
// message the room no longer holds; a change of a kept message stays.
func (s *suite) testTrimTakesChanges(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2, 3, 4, 5))
	edit1 := change("a", 6, store.ChangeEdit, 1, "fixed")
	react2 := react("a", 7, store.ChangeReact, 2, "bob", "👍")
	del3 := change("a", 8, store.ChangeDelete, 3, "")
	edit5 := change("a", 9, store.ChangeEdit, 5, "kept")
	react5 := react("a", 10, store.ChangeReact, 5, "bob", "🎉")
	mustAppend(t, st, []store.Message{edit1, react2, del3, edit5, react5})

	// The newest 6 are 5 to 10: 1 to 4 go, and with them 6, 7 and 8.
	if n := trim(t, st, base.Add(time.Hour), 0, 6); n != 7 {
		t.Fatalf("Trim deleted %d, want 7 (messages 1 to 4 and the changes of 1, 2 and 3)", n)
	}
	m5 := msg("a", 5)
	m5.Text, m5.Edited = "kept", edit5.Time
	m5.Reactions = []store.Reaction{{Emoji: "🎉", Count: 1, Users: []string{"bob"}}}
	checkAfter(t, st, "a", 0, 100, []store.Message{m5, edit5, react5})
	if got, err := st.After(ctx(t), "a", 0, 1); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].Reactions, m5.Reactions) {
		t.Fatalf("message 5 after Trim reads %+v, %v; want reactions %v", got, err, m5.Reactions)
	}
	checkOldest(t, st, "a", 5)
	checkLastSeq(t, st, "a", 10)
	if n := trim(t, st, base.Add(time.Hour), 0, 6); n != 0 {
		t.Fatalf("a second Trim deleted %d more", n)
	}
}
