package storetest

import (
	"testing"

	"github.com/chatd/chatd/store"
)

// reply is room's message seq in the thread of root (0: none), answering
// replyTo (0: none).
func reply(room string, seq, root, replyTo uint64, alsoRoom bool) store.Message {
	m := msg(room, seq)
	m.Thread, m.ReplyTo, m.AlsoRoom = root, replyTo, alsoRoom
	return m
}

// summary is the thread summary of n replies, the newest being m.
func summary(n int, m store.Message) store.ThreadSummary {
	return store.ThreadSummary{Replies: n, LastReply: m.Seq, LastReplyTime: m.Time}
}

// testThreads: replies keep what they answer; a thread reply counts on its
// root, in the transaction that stores it, also in the batch that stores
// the root; a thread reply to a thread reply, a change or a missing
// message counts nowhere; deleting a root keeps its thread and summary;
// an edit or a delete of a reply leaves the count alone.
func (s *suite) testThreads(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2))
	r3 := reply("a", 3, 0, 1, false) // a plain reply to 1
	r4 := reply("a", 4, 1, 0, false) // a thread reply on 1
	r5 := reply("a", 5, 1, 4, true)  // a thread reply also in the room, answering 4
	mustAppend(t, st, []store.Message{r3, r4})
	mustAppend(t, st, []store.Message{r5})
	mustAppend(t, st, msgs("b", 1))
	mustAppend(t, st, []store.Message{reply("b", 2, 1, 0, false)}) // same seq, other room

	root := msg("a", 1)
	root.Summary = summary(2, r5)
	checkAfter(t, st, "a", 0, 10, []store.Message{root, msg("a", 2), r3, r4, r5})
	bRoot := msg("b", 1)
	bRoot.Summary = summary(1, reply("b", 2, 1, 0, false))
	checkAfter(t, st, "b", 0, 1, []store.Message{bRoot})

	// Counted nowhere: a reply in the thread of a thread reply, of a
	// change, of a message that is not there.
	edit := change("a", 6, store.ChangeEdit, 4, "edited reply")
	mustAppend(t, st, []store.Message{edit})
	mustAppend(t, st, []store.Message{reply("a", 7, 4, 0, false), reply("a", 8, 6, 0, false), reply("a", 9, 99, 0, false)})
	r4.Text, r4.Edited = "edited reply", edit.Time
	checkAfter(t, st, "a", 3, 2, []store.Message{r4, r5})
	checkAfter(t, st, "a", 0, 1, []store.Message{root})

	// A root and its reply in one batch; deleting the root keeps the
	// thread; deleting a reply keeps it counted, as the thread still lists
	// it (a tombstone).
	r11 := reply("a", 11, 10, 0, false)
	mustAppend(t, st, []store.Message{msg("a", 10), r11})
	mustAppend(t, st, []store.Message{change("a", 12, store.ChangeDelete, 1, ""), change("a", 13, store.ChangeDelete, 5, "")})
	root.Text, root.Deleted = "", true
	r5.Text, r5.Deleted = "", true
	root10 := msg("a", 10)
	root10.Summary = summary(1, r11)
	checkAfter(t, st, "a", 0, 1, []store.Message{root})
	checkAfter(t, st, "a", 9, 2, []store.Message{root10, r11})
	checkThread(t, st, "a", 1, 0, 10, []store.Message{r4, r5})
}

// checkThread fails t unless the thread of root after after is exp.
func checkThread(t *testing.T, st store.Store, room string, root, after uint64, limit int, exp []store.Message) {
	t.Helper()
	got, err := st.ThreadAfter(ctx(t), room, root, after, limit)
	if err != nil {
		t.Fatalf("ThreadAfter(%q, %d, %d, %d): %v", room, root, after, limit, err)
	}
	checkMessages(t, "ThreadAfter", got, exp)
}

// testThreadPaging: a thread pages like a room, forward and back, over its
// own replies only, each in its current state with its reactions.
func (s *suite) testThreadPaging(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2))
	var thread []store.Message
	var batch []store.Message
	for seq := uint64(3); seq <= 30; seq++ {
		if seq%3 == 0 {
			batch = append(batch, msg("a", seq)) // the room goes on between replies
			continue
		}
		r := reply("a", seq, 1, 0, seq%2 == 0)
		batch = append(batch, r)
		thread = append(thread, r)
	}
	mustAppend(t, st, batch)
	mustAppend(t, st, []store.Message{react("a", 31, store.ChangeReact, thread[0].Seq, "bob", "👍")})
	mustAppend(t, st, []store.Message{reply("a", 32, 2, 0, false)}) // another thread

	got, err := st.ThreadAfter(ctx(t), "a", 1, 0, 100)
	if err != nil || len(got) != len(thread) || len(got[0].Reactions) != 1 || got[0].Reactions[0].Emoji != "👍" {
		t.Fatalf("ThreadAfter(all) = %d replies, first %+v, %v; want %d, the first with bob's 👍", len(got), got, err, len(thread))
	}
	got[0].Reactions = nil
	checkMessages(t, "ThreadAfter(all)", got, thread)
	checkThread(t, st, "a", 1, thread[4].Seq, 3, thread[5:8])
	checkThread(t, st, "a", 1, thread[len(thread)-1].Seq, 3, nil)

	before := func(b uint64, limit int, exp []store.Message) {
		t.Helper()
		got, err := st.ThreadBefore(ctx(t), "a", 1, b, limit)
		if err != nil {
			t.Fatalf("ThreadBefore(%d, %d): %v", b, limit, err)
		}
		checkMessages(t, "ThreadBefore", got, exp)
	}
	before(0, 4, thread[len(thread)-4:])
	before(thread[6].Seq, 4, thread[2:6])
	before(thread[1].Seq, 4, thread[:1])
	before(thread[0].Seq, 4, nil)
	if got, err := st.ThreadBefore(ctx(t), "a", 1, 0, 0); err != nil || len(got) != 0 {
		t.Fatalf("ThreadBefore with limit 0 = %v, %v", got, err)
	}
	if got, err := st.ThreadAfter(ctx(t), "a", 0, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("ThreadAfter of root 0 = %v, %v; want none (0 is no thread)", got, err)
	}
	root := msg("a", 1)
	root.Summary = summary(len(thread), thread[len(thread)-1])
	checkAfter(t, st, "a", 0, 1, []store.Message{root})

	// Retention takes the root and the replies it reaches; the rest of
	// the thread still reads.
	trim(t, st, base, 0, 20) // keeps 13 to 32
	for thread[0].Seq < 13 {
		thread = thread[1:]
	}
	checkThread(t, st, "a", 1, 0, 100, thread)
}

// testNumberedThreads: AppendNumbered counts thread replies like Append,
// with the numbers it gives them, and a repeated reply (same client id)
// counts once.
func (s *suite) testNumberedThreads(t *testing.T) {
	sq := s.sequencer(t)
	first := []store.Message{unnumbered("a", 1)}
	if _, err := sq.AppendNumbered(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	r := withID("a", "bob", "t1", "in the thread")
	r.Thread = first[0].Seq
	r2 := withID("a", "carol", "t2", "me too")
	r2.Thread, r2.ReplyTo, r2.AlsoRoom = first[0].Seq, first[0].Seq, true
	batch := []store.Message{r, r2}
	if _, err := sq.AppendNumbered(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	if repeats, err := sq.AppendNumbered(ctx(t), []store.Message{r}); err != nil || len(repeats) != 1 {
		t.Fatalf("a repeated thread reply: repeats %v, %v; want [0]", repeats, err)
	}
	root := first[0]
	root.Summary = summary(2, batch[1])
	checkAfter(t, sq, "a", 0, 1, []store.Message{root})
	checkThread(t, sq, "a", root.Seq, 0, 10, batch)
}
