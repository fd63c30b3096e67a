package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// mentioning is room's message seq naming users.
func mentioning(room string, seq uint64, users ...string) store.Message {
	m := msg(room, seq)
	m.Mentions = users
	return m
}

// mentionsOf lists user's mentions as "room/seq@at", newest first.
func mentionsOf(t *testing.T, st store.Store, user string, before int64, limit int) ([]string, []store.Mention) {
	t.Helper()
	ms, err := st.Mentions(ctx(t), user, before, limit)
	if err != nil {
		t.Fatalf("Mentions(%q): %v", user, err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%s/%d@%d", m.Message.Room, m.Message.Seq, m.At))
	}
	return got, ms
}

// testMentions: mentions are recorded with the messages that make them,
// listed newest first with their message in its current state and paged
// by ID; an edit records the names it adds at its own seq and nothing for
// a name already mentioned; unread mentions are those above the user's
// read position, the newest max of each room; a delete or an edit of a
// deleted message, and retention, leave no mention behind.
func (s *suite) testMentions(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, []store.Message{mentioning("a", 1, "bob"), msg("a", 2), mentioning("a", 3, "bob", "carol")})
	mustAppend(t, st, []store.Message{mentioning("b", 1, "bob")})
	edit := change("a", 4, store.ChangeEdit, 2, "now for @bob")
	edit.Mentions = []string{"bob"}
	again := change("a", 5, store.ChangeEdit, 1, "still @bob")
	again.Mentions = []string{"bob"} // mentioned by message 1 already
	mustAppend(t, st, []store.Message{edit, again})

	got, ms := mentionsOf(t, st, "bob", 0, 10)
	if want := []string{"a/2@4", "b/1@1", "a/3@3", "a/1@1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("bob's mentions = %v; want %v", got, want)
	}
	if m := ms[0].Message; m.Text != "now for @bob" || m.Edited.IsZero() || m.From != "user-a" || !m.Time.Equal(want(msg("a", 2)).Time) {
		t.Fatalf("the edited message mentioning bob reads %+v", m)
	}
	page, _ := mentionsOf(t, st, "bob", ms[1].ID, 2)
	if want := []string{"a/3@3", "a/1@1"}; !reflect.DeepEqual(page, want) {
		t.Fatalf("bob's mentions before %d = %v; want %v", ms[1].ID, page, want)
	}
	if got, _ := mentionsOf(t, st, "carol", 0, 10); !reflect.DeepEqual(got, []string{"a/3@3"}) {
		t.Fatalf("carol's mentions = %v", got)
	}
	if got, _ := mentionsOf(t, st, "dave", 0, 10); got != nil {
		t.Fatalf("dave's mentions = %v; want none", got)
	}

	unread, err := st.UnreadMentions(ctx(t), "bob", 10)
	if want := map[string][]uint64{"a": {1, 3, 4}, "b": {1}}; err != nil || !reflect.DeepEqual(unread, want) {
		t.Fatalf("bob's unread mentions = %v, %v; want %v", unread, err, want)
	}
	if err := st.SetRead(ctx(t), "bob", "a", 3); err != nil {
		t.Fatal(err)
	}
	unread, err = st.UnreadMentions(ctx(t), "bob", 10)
	if want := map[string][]uint64{"a": {4}, "b": {1}}; err != nil || !reflect.DeepEqual(unread, want) {
		t.Fatalf("bob's unread mentions after reading a to 3 = %v, %v; want %v", unread, err, want)
	}
	if err := st.SetRead(ctx(t), "bob", "b", 1); err != nil {
		t.Fatal(err)
	}
	unread, err = st.UnreadMentions(ctx(t), "carol", 10)
	if want := map[string][]uint64{"a": {3}}; err != nil || !reflect.DeepEqual(unread, want) {
		t.Fatalf("carol's unread mentions = %v, %v; want %v (bob's reads are his)", unread, err, want)
	}

	// A delete takes the message's mentions; an edit of a deleted message
	// records none.
	mustAppend(t, st, []store.Message{change("a", 6, store.ChangeDelete, 3, "")})
	late := change("a", 7, store.ChangeEdit, 3, "@carol")
	late.Mentions = []string{"carol"}
	mustAppend(t, st, []store.Message{late})
	if got, _ := mentionsOf(t, st, "carol", 0, 10); got != nil {
		t.Fatalf("carol's mentions after the delete = %v; want none", got)
	}
	if got, _ := mentionsOf(t, st, "bob", 0, 10); !reflect.DeepEqual(got, []string{"a/2@4", "b/1@1", "a/1@1"}) {
		t.Fatalf("bob's mentions after the delete = %v", got)
	}

	// Retention takes the mentions of the messages it removes.
	if _, err := st.Trim(ctx(t), base.Add(time.Hour), 0, 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := mentionsOf(t, st, "bob", 0, 10); !reflect.DeepEqual(got, []string{"b/1@1"}) {
		t.Fatalf("bob's mentions after retention = %v; want b/1@1 only", got)
	}
}

// testUnreadMentionsNewest: UnreadMentions gives the newest max of each
// room.
func (s *suite) testUnreadMentionsNewest(t *testing.T) {
	st := s.newStore(t)
	var batch []store.Message
	for seq := uint64(1); seq <= 5; seq++ {
		batch = append(batch, mentioning("a", seq, "bob"))
	}
	mustAppend(t, st, batch)
	unread, err := st.UnreadMentions(ctx(t), "bob", 2)
	if want := map[string][]uint64{"a": {4, 5}}; err != nil || !reflect.DeepEqual(unread, want) {
		t.Fatalf("bob's 2 newest unread mentions = %v, %v; want %v", unread, err, want)
	}
}

// testNumberedMentions: AppendNumbered records mentions at the numbers it
// gives, and a repeated message records nothing more.
func (s *suite) testNumberedMentions(t *testing.T) {
	sq := s.sequencer(t)
	mustAppend(t, sq, msgs("a", 1, 2))
	m := withID("a", "alice", "m1", "hi @bob")
	m.Mentions = []string{"bob"}
	if _, err := sq.AppendNumbered(ctx(t), []store.Message{m}); err != nil {
		t.Fatal(err)
	}
	if repeats, err := sq.AppendNumbered(ctx(t), []store.Message{m}); err != nil || len(repeats) != 1 {
		t.Fatalf("a repeated message: repeats %v, %v; want [0]", repeats, err)
	}
	if got, _ := mentionsOf(t, sq, "bob", 0, 10); !reflect.DeepEqual(got, []string{"a/3@3"}) {
		t.Fatalf("bob's mentions = %v; want a/3@3", got)
	}
}

// testMentionsTakenBack: MessageMentions lists the users a message
// mentions with the At of each; an edit's Unmentions remove those users'
// mentions of its target, read or unread, and leave the others.
func (s *suite) testMentionsTakenBack(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, []store.Message{mentioning("a", 1, "bob", "carol"), msg("a", 2)})
	edit := change("a", 3, store.ChangeEdit, 2, "now @dave")
	edit.Mentions = []string{"dave"}
	mustAppend(t, st, []store.Message{edit})
	for _, tc := range []struct {
		seq  uint64
		want map[string]uint64
	}{{1, map[string]uint64{"bob": 1, "carol": 1}}, {2, map[string]uint64{"dave": 3}}, {9, map[string]uint64{}}} {
		if got, err := st.MessageMentions(ctx(t), "a", tc.seq); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("MessageMentions(a, %d) = %v, %v; want %v", tc.seq, got, err, tc.want)
		}
	}
	if err := st.SetRead(ctx(t), "carol", "a", 3); err != nil {
		t.Fatal(err)
	}
	take := change("a", 4, store.ChangeEdit, 1, "only @carol")
	take.Unmentions = []string{"bob"}
	untag := change("a", 5, store.ChangeEdit, 2, "nobody")
	untag.Unmentions = []string{"dave"}
	mustAppend(t, st, []store.Message{take, untag})
	if got, err := st.MessageMentions(ctx(t), "a", 1); err != nil || !reflect.DeepEqual(got, map[string]uint64{"carol": 1}) {
		t.Fatalf("MessageMentions(a, 1) after bob's name went = %v, %v; want carol's alone", got, err)
	}
	for _, user := range []string{"bob", "dave"} {
		if got, _ := mentionsOf(t, st, user, 0, 10); got != nil {
			t.Errorf("%s's mentions after the edit took the name out = %v; want none", user, got)
		}
		if unread, err := st.UnreadMentions(ctx(t), user, 10); err != nil || len(unread) != 0 {
			t.Errorf("%s's unread mentions after the edit = %v, %v; want none", user, unread, err)
		}
	}
	if got, _ := mentionsOf(t, st, "carol", 0, 10); !reflect.DeepEqual(got, []string{"a/1@1"}) {
		t.Errorf("carol's mentions = %v; want a/1@1, kept", got)
	}
}
