// Package storetest owns the conformance suites of store.Store (Run) and
// store.Accounts (RunAccounts): sets of tests that every adapter
// (store/sqlite, store/postgres, and store/memory for Accounts) runs, the
// SQL ones against a real database, so that they keep the same semantics;
// and the shared body of their Append benchmarks.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// Option configures Run.
type Option func(*config)

type config struct {
	reopen func(t *testing.T) func() store.Store
}

// Reopen gives the suite a way to open the same database more than once,
// for the tests of persistence across Close. reopen returns, for a new
// empty database of its own, a function that opens that database each time
// it is called (failing t if it cannot). Without it those tests are skipped.
func Reopen(reopen func(t *testing.T) func() store.Store) Option {
	return func(c *config) { c.reopen = reopen }
}

// Run runs the conformance suite as subtests of t. open returns a new,
// empty store for each subtest; the suite closes it (Close is idempotent,
// so open may also register a Close with t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	s := &suite{open: open, reopen: c.reopen}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Empty", s.testEmpty},
		{"AppendAndRead", s.testAppendAndRead},
		{"SeqConflict", s.testSeqConflict},
		{"RefusedNumbersAreFree", s.testRefusedNumbersAreFree},
		{"LargeInterleavedBatch", s.testLargeInterleavedBatch},
		{"Paging", s.testPaging},
		{"PagingLong", s.testPagingLong},
		{"Literal", s.testLiteral},
		{"Time", s.testTime},
		{"FindClientMsg", s.testFindClientMsg},
		{"TrimByCount", s.testTrimByCount},
		{"TrimByAge", s.testTrimByAge},
		{"TrimPrefixOnly", s.testTrimPrefixOnly},
		{"TrimAll", s.testTrimAll},
		{"TrimChunks", s.testTrimChunks},
		{"TrimTakesChanges", s.testTrimTakesChanges},
		{"ReadPositions", s.testReadPositions},
		{"Concurrent", s.testConcurrent},
		{"Canceled", s.testCanceled},
		{"Ping", s.testPing},
		{"Close", s.testClose},
		{"Reopen", s.testReopen},
		{"Numbered", s.testNumbered},
		{"NumberedConcurrent", s.testNumberedConcurrent},
		{"NumberedRepeats", s.testNumberedRepeats},
		{"NumberedMixedBatch", s.testNumberedMixedBatch},
		{"NumberedRepeatsConcurrent", s.testNumberedRepeatsConcurrent},
		{"Changes", s.testChanges},
		{"ChangesInOneBatch", s.testChangesInOneBatch},
		{"NumberedChanges", s.testNumberedChanges},
		{"Reactions", s.testReactions},
		{"NumberedReactions", s.testNumberedReactions},
		{"Mentions", s.testMentions},
		{"UnreadMentionsNewest", s.testUnreadMentionsNewest},
		{"NumberedMentions", s.testNumberedMentions},
		{"MentionsTakenBack", s.testMentionsTakenBack},
		{"Search", s.testSearch},
		{"SearchPaging", s.testSearchPaging},
		{"SearchBest", s.testSearchBest},
		{"SearchBestRanksTheNewestWindow", s.testSearchBestRanksTheNewestWindow},
		{"SearchFollowsChanges", s.testSearchFollowsChanges},
		{"SearchChangesInTheirTargetsBatch", s.testSearchChangesInTheirTargetsBatch},
		{"SearchNumbered", s.testSearchNumbered},
		{"SearchFoldsAccents", s.testSearchFoldsAccents},
		{"ReactionTally", s.testReactionTally},
		{"ReactionCounts", s.testReactionCounts},
		{"Threads", s.testThreads},
		{"ThreadPaging", s.testThreadPaging},
		{"NumberedThreads", s.testNumberedThreads},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	open   func(t *testing.T) store.Store
	reopen func(t *testing.T) func() store.Store
}

// newStore opens a store and closes it when the test ends.
func (s *suite) newStore(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() { st.Close() })
	return st
}

// base is the time of the suite's first message: not UTC and with
// nanoseconds, so that the µs/UTC rule of the contract is exercised.
var base = time.Date(2026, 11, 26, 13, 0, 0, 123456789, time.FixedZone("CET", 3600))

// msg is the message of room with seq sent at base + seq seconds.
func msg(room string, seq uint64) store.Message {
	return store.Message{
		Room: room,
		Seq:  seq,
		From: "user-" + room,
		Text: fmt.Sprintf("message %d of %s", seq, room),
		Time: base.Add(time.Duration(seq) * time.Second),
	}
}

// msgs returns msg(room, seq) for each seq.
func msgs(room string, seqs ...uint64) []store.Message {
	out := make([]store.Message, len(seqs))
	for i, seq := range seqs {
		out[i] = msg(room, seq)
	}
	return out
}

// seqRange returns from, from+1, ..., to.
func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustAppend(t *testing.T, st store.Store, ms []store.Message) {
	t.Helper()
	if err := st.Append(ctx(t), ms); err != nil {
		t.Fatalf("Append(%d messages, first %s/%d): %v", len(ms), ms[0].Room, ms[0].Seq, err)
	}
}

// want is m as a store returns it: Time to the microsecond, in UTC.
func want(m store.Message) store.Message {
	m.Time = m.Time.Truncate(time.Microsecond).UTC()
	return m
}

func sameMessage(got, exp store.Message) bool {
	exp = want(exp)
	return got.Room == exp.Room && got.Seq == exp.Seq && got.From == exp.From && got.Text == exp.Text &&
		got.ClientMsgID == exp.ClientMsgID && got.Time.Equal(exp.Time) && got.Time.Location() == time.UTC &&
		got.Change == exp.Change && got.Target == exp.Target && got.Deleted == exp.Deleted &&
		got.Edited.Equal(exp.Edited.Truncate(time.Microsecond)) && (got.Edited.IsZero() || got.Edited.Location() == time.UTC) &&
		got.ReplyTo == exp.ReplyTo && got.Thread == exp.Thread && got.AlsoRoom == exp.AlsoRoom &&
		got.Summary.Replies == exp.Summary.Replies && got.Summary.LastReply == exp.Summary.LastReply &&
		got.Summary.LastReplyTime.Equal(exp.Summary.LastReplyTime.Truncate(time.Microsecond)) &&
		(got.Summary.LastReplyTime.IsZero() || got.Summary.LastReplyTime.Location() == time.UTC)
}

func seqsOf(ms []store.Message) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// checkMessages fails t unless got are exactly exp, in order.
func checkMessages(t *testing.T, what string, got, exp []store.Message) {
	t.Helper()
	if len(got) != len(exp) {
		t.Fatalf("%s: got seqs %v, want %v", what, seqsOf(got), seqsOf(exp))
	}
	for i := range got {
		if !sameMessage(got[i], exp[i]) {
			t.Fatalf("%s: message %d:\n got %#v\nwant %#v", what, i, got[i], want(exp[i]))
		}
	}
}

func checkAfter(t *testing.T, st store.Store, room string, after uint64, limit int, exp []store.Message) {
	t.Helper()
	got, err := st.After(ctx(t), room, after, limit)
	if err != nil {
		t.Fatalf("After(%q, %d, %d): %v", room, after, limit, err)
	}
	checkMessages(t, fmt.Sprintf("After(%q, %d, %d)", room, after, limit), got, exp)
}

func checkBefore(t *testing.T, st store.Store, room string, before uint64, limit int, exp []store.Message) {
	t.Helper()
	got, err := st.Before(ctx(t), room, before, limit)
	if err != nil {
		t.Fatalf("Before(%q, %d, %d): %v", room, before, limit, err)
	}
	checkMessages(t, fmt.Sprintf("Before(%q, %d, %d)", room, before, limit), got, exp)
}

func checkLastSeq(t *testing.T, st store.Store, room string, exp uint64) {
	t.Helper()
	got, err := st.LastSeq(ctx(t), room)
	if err != nil || got != exp {
		t.Fatalf("LastSeq(%q) = %d, %v; want %d", room, got, err, exp)
	}
}

func checkOldest(t *testing.T, st store.Store, room string, exp uint64) {
	t.Helper()
	got, err := st.Oldest(ctx(t), room)
	if err != nil || got != exp {
		t.Fatalf("Oldest(%q) = %d, %v; want %d", room, got, err, exp)
	}
}

func trim(t *testing.T, st store.Store, now time.Time, maxAge time.Duration, maxPerRoom int) int64 {
	t.Helper()
	n, err := st.Trim(ctx(t), now, maxAge, maxPerRoom)
	if err != nil {
		t.Fatalf("Trim(%v, %v, %d): %v", now, maxAge, maxPerRoom, err)
	}
	return n
}

func (s *suite) testEmpty(t *testing.T) {
	st := s.newStore(t)
	checkLastSeq(t, st, "lobby", 0)
	checkOldest(t, st, "lobby", 0)
	checkAfter(t, st, "lobby", 0, 10, nil)
	checkBefore(t, st, "lobby", 0, 10, nil)
	if m, ok, err := st.FindClientMsg(ctx(t), "lobby", "alice", "m1"); err != nil || ok {
		t.Fatalf("FindClientMsg on an empty store = %v, %v, %v", m, ok, err)
	}
	pos, err := st.ReadPositions(ctx(t), "alice")
	if err != nil || pos == nil || len(pos) != 0 {
		t.Fatalf("ReadPositions on an empty store = %v (nil: %v), %v; want an empty map", pos, pos == nil, err)
	}
	if err := st.Append(ctx(t), nil); err != nil {
		t.Fatalf("Append(nil) = %v", err)
	}
	if n := trim(t, st, base, time.Minute, 10); n != 0 {
		t.Fatalf("Trim of an empty store deleted %d", n)
	}
}

func (s *suite) testAppendAndRead(t *testing.T) {
	st := s.newStore(t)
	// One batch across rooms, interleaved.
	batch := []store.Message{msg("a", 1), msg("b", 1), msg("a", 2), msg("b", 2), msg("a", 3)}
	batch[1].ClientMsgID = "b-1"
	mustAppend(t, st, batch)
	mustAppend(t, st, msgs("a", 4))
	checkLastSeq(t, st, "a", 4)
	checkLastSeq(t, st, "b", 2)
	checkLastSeq(t, st, "c", 0)
	checkLastSeq(t, st, "A", 0) // rooms are compared exactly; the caller normalizes names
	checkOldest(t, st, "a", 1)
	checkOldest(t, st, "b", 1)
	checkAfter(t, st, "a", 0, 100, []store.Message{batch[0], batch[2], batch[4], msg("a", 4)})
	checkAfter(t, st, "b", 0, 100, []store.Message{batch[1], batch[3]})
	checkAfter(t, st, "c", 0, 100, nil)
}

func (s *suite) testSeqConflict(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2, 3))
	for name, batch := range map[string][]store.Message{
		"seq already stored":          msgs("a", 3, 4),
		"seq below the last":          msgs("a", 2),
		"seq 0":                       msgs("z", 0),
		"seq above MaxInt64":          msgs("z", math.MaxInt64+1),
		"decreasing in the batch":     msgs("z", 5, 4),
		"repeated in the batch":       msgs("z", 1, 1),
		"other room fine, this stale": append(msgs("z", 1, 2), msg("a", 1)),
		"interleaved decreasing":      {msg("z", 1), msg("a", 5), msg("z", 3), msg("a", 4)},
	} {
		err := st.Append(ctx(t), batch)
		if !errors.Is(err, store.ErrSeqConflict) {
			t.Errorf("%s: Append = %v, want an error wrapping ErrSeqConflict", name, err)
		}
	}
	// Nothing of the refused batches was stored.
	checkLastSeq(t, st, "a", 3)
	checkLastSeq(t, st, "z", 0)
	checkAfter(t, st, "a", 0, 100, msgs("a", 1, 2, 3))
	checkAfter(t, st, "z", 0, 100, nil)
	// Gaps are fine, and so is the largest seq.
	mustAppend(t, st, msgs("a", 10, math.MaxInt64))
	checkLastSeq(t, st, "a", math.MaxInt64)
	checkAfter(t, st, "a", 3, 100, msgs("a", 10, math.MaxInt64))
	checkBefore(t, st, "a", 0, 1, msgs("a", math.MaxInt64))
	checkAfter(t, st, "a", math.MaxInt64, 100, nil)
	checkAfter(t, st, "a", math.MaxUint64, 100, nil)
}

// A refused batch leaves its room's LastSeq where it was, so the numbers it
// carried go to the next messages and the room's sequence has no hole.
func (s *suite) testRefusedNumbersAreFree(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("a", 1, 2))
	mustAppend(t, st, msgs("b", 1))
	refused := append(msgs("a", 3, 4, 5), msg("b", 1))
	if err := st.Append(ctx(t), refused); !errors.Is(err, store.ErrSeqConflict) {
		t.Fatalf("Append with a stale seq = %v, want ErrSeqConflict", err)
	}
	checkLastSeq(t, st, "a", 2)
	mustAppend(t, st, msgs("a", 3))
	mustAppend(t, st, msgs("a", 4, 5))
	checkLastSeq(t, st, "a", 5)
	checkAfter(t, st, "a", 0, 100, msgs("a", 1, 2, 3, 4, 5))
}

func (s *suite) testPaging(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, msgs("r", 1, 2, 5, 9, 10))
	mustAppend(t, st, msgs("other", 3, 4, 6))
	cases := []struct {
		after bool
		bound uint64
		limit int
		exp   []uint64
	}{
		{true, 0, 100, []uint64{1, 2, 5, 9, 10}},
		{true, 0, 0, nil},
		{true, 0, -1, nil},
		{true, 0, 1, []uint64{1}},
		{true, 1, 1, []uint64{2}},
		{true, 2, 2, []uint64{5, 9}},
		{true, 3, 2, []uint64{5, 9}}, // a bound in a gap
		{true, 5, 100, []uint64{9, 10}},
		{true, 9, 100, []uint64{10}},
		{true, 10, 100, nil},
		{true, 11, 100, nil},
		{true, math.MaxUint64, 100, nil},
		{false, 0, 100, []uint64{1, 2, 5, 9, 10}},
		{false, 0, 2, []uint64{9, 10}},
		{false, 0, 1, []uint64{10}},
		{false, 0, 0, nil},
		{false, 0, -5, nil},
		{false, 10, 100, []uint64{1, 2, 5, 9}},
		{false, 10, 1, []uint64{9}},
		{false, 9, 2, []uint64{2, 5}},
		{false, 7, 2, []uint64{2, 5}}, // a bound in a gap
		{false, 5, 100, []uint64{1, 2}},
		{false, 2, 100, []uint64{1}},
		{false, 1, 100, nil},
		{false, 11, 2, []uint64{9, 10}},
		{false, math.MaxUint64, 3, []uint64{5, 9, 10}},
	}
	for _, c := range cases {
		if c.after {
			checkAfter(t, st, "r", c.bound, c.limit, msgs("r", c.exp...))
		} else {
			checkBefore(t, st, "r", c.bound, c.limit, msgs("r", c.exp...))
		}
	}
}

func (s *suite) testPagingLong(t *testing.T) {
	st := s.newStore(t)
	all := msgs("long", seqRange(1, 100)...)
	for i := 0; i < len(all); i += 17 { // several batches of uneven size
		mustAppend(t, st, all[i:min(i+17, len(all))])
	}
	// Forward, page by page.
	var got []store.Message
	for after := uint64(0); ; {
		page, err := st.After(ctx(t), "long", after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 7 {
			t.Fatalf("After returned %d messages for a limit of 7", len(page))
		}
		got = append(got, page...)
		after = page[len(page)-1].Seq
	}
	checkMessages(t, "forward paging", got, all)
	// Backward, page by page.
	got = nil
	for before := uint64(0); ; {
		page, err := st.Before(ctx(t), "long", before, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(page, got...)
		before = page[0].Seq
	}
	checkMessages(t, "backward paging", got, all)
}

// tricky are strings that break naive SQL, HTML or encoding handling.
var tricky = []string{
	`'; DROP TABLE messages; --`,
	`Robert'); DELETE FROM room_seqs WHERE ('1'='1`,
	`" OR 1=1 -- `,
	`<script>alert("x")</script> &amp; &lt;b&gt;`,
	`100% of _all_ \ and \\ and \' and \x00`,
	"tabs\tand\nnewlines\r\n",
	"héllo wörld — 世界 🎉 👩‍👩‍👧 \u202eevil\u202c \ufeffbom",
	"nul\x00inside",
	"\x00",
	"invalid utf-8 \xff\xfe\xc3",
	"$1 $2 ? ?1 :name @p",
	"",
	strings.Repeat("long text ", 6554)[:65535],
}

func (s *suite) testLiteral(t *testing.T) {
	st := s.newStore(t)
	var batch []store.Message
	for i, text := range tricky {
		m := msg(`room'"<>`, uint64(i+1))
		m.Text = text
		m.From = `o'brien "<b>"`
		m.ClientMsgID = fmt.Sprintf("id-%d-%s", i, text[:min(len(text), 40)])
		batch = append(batch, m)
	}
	mustAppend(t, st, batch)
	checkAfter(t, st, `room'"<>`, 0, 100, batch)
	for _, m := range batch {
		got, ok, err := st.FindClientMsg(ctx(t), m.Room, m.From, m.ClientMsgID)
		if err != nil || !ok || !sameMessage(got, m) {
			t.Fatalf("FindClientMsg(%q) = %#v, %v, %v", m.ClientMsgID, got, ok, err)
		}
	}
	// The tables are all still there.
	checkLastSeq(t, st, `room'"<>`, uint64(len(batch)))
	if err := st.SetRead(ctx(t), `o'brien "<b>"`, `room'"<>`, 3); err != nil {
		t.Fatal(err)
	}
	pos, err := st.ReadPositions(ctx(t), `o'brien "<b>"`)
	if err != nil || pos[`room'"<>`] != 3 {
		t.Fatalf("ReadPositions = %v, %v", pos, err)
	}
}

func (s *suite) testTime(t *testing.T) {
	st := s.newStore(t)
	times := []time.Time{
		base,
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2262, 1, 1, 0, 0, 0, 1000, time.FixedZone("X", -7*3600)),
		time.Now(), // with a monotonic reading
	}
	var batch []store.Message
	for i, tm := range times {
		m := msg("t", uint64(i+1))
		m.Time = tm
		batch = append(batch, m)
	}
	mustAppend(t, st, batch)
	checkAfter(t, st, "t", 0, 100, batch)
}

func (s *suite) testFindClientMsg(t *testing.T) {
	st := s.newStore(t)
	a1 := msg("a", 1)
	a1.ClientMsgID = "m1"
	a1.From = "alice"
	a2 := msg("a", 2)
	a2.ClientMsgID = "m1"
	a2.From = "bob"
	a3 := msg("a", 3) // no id
	a3.From = "alice"
	b1 := msg("b", 1)
	b1.ClientMsgID = "m1"
	b1.From = "alice"
	mustAppend(t, st, []store.Message{a1, a2, a3, b1})

	find := func(room, from, id string) (store.Message, bool) {
		t.Helper()
		m, ok, err := st.FindClientMsg(ctx(t), room, from, id)
		if err != nil {
			t.Fatalf("FindClientMsg(%q, %q, %q): %v", room, from, id, err)
		}
		return m, ok
	}
	for _, c := range []struct {
		room, from, id string
		exp            *store.Message
	}{
		{"a", "alice", "m1", &a1},
		{"a", "bob", "m1", &a2},
		{"b", "alice", "m1", &b1},
		{"a", "alice", "m2", nil},
		{"a", "carol", "m1", nil},
		{"c", "alice", "m1", nil},
		{"a", "alice", "M1", nil},
		{"a", "alice", "", nil}, // an empty id matches nothing, not a3
	} {
		m, ok := find(c.room, c.from, c.id)
		switch {
		case c.exp == nil && ok:
			t.Errorf("FindClientMsg(%q, %q, %q) found %d, want none", c.room, c.from, c.id, m.Seq)
		case c.exp != nil && (!ok || !sameMessage(m, *c.exp)):
			t.Errorf("FindClientMsg(%q, %q, %q) = %#v, %v; want seq %d", c.room, c.from, c.id, m, ok, c.exp.Seq)
		}
	}

	// A reused id finds the newest message.
	a9 := msg("a", 9)
	a9.ClientMsgID = "m1"
	a9.From = "alice"
	mustAppend(t, st, []store.Message{a9})
	if m, ok := find("a", "alice", "m1"); !ok || m.Seq != 9 {
		t.Fatalf("after reuse FindClientMsg found %d, %v; want 9", m.Seq, ok)
	}
	// Retention forgets it.
	trim(t, st, base, 0, 1) // keeps a9 and b1
	if m, ok := find("a", "bob", "m1"); ok {
		t.Fatalf("FindClientMsg found trimmed message %d", m.Seq)
	}
	if _, ok := find("a", "alice", "m1"); !ok {
		t.Fatal("FindClientMsg lost a retained message")
	}
}

func (s *suite) testTrimByCount(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, append(append(msgs("a", seqRange(1, 10)...), msgs("b", 1, 2, 3)...), msgs("c", 4, 8, 15, 16, 23, 42)...))
	if n := trim(t, st, base, 0, 5); n != 5+0+1 {
		t.Fatalf("Trim(max 5 per room) deleted %d, want 6", n)
	}
	checkAfter(t, st, "a", 0, 100, msgs("a", 6, 7, 8, 9, 10))
	checkAfter(t, st, "b", 0, 100, msgs("b", 1, 2, 3))
	checkAfter(t, st, "c", 0, 100, msgs("c", 8, 15, 16, 23, 42))
	checkOldest(t, st, "a", 6)
	checkOldest(t, st, "b", 1)
	checkOldest(t, st, "c", 8)
	checkLastSeq(t, st, "a", 10)
	if n := trim(t, st, base, 0, 5); n != 0 {
		t.Fatalf("a second Trim deleted %d more", n)
	}
	if n := trim(t, st, base, 0, 1); n != 4+2+4 {
		t.Fatalf("Trim(max 1 per room) deleted %d, want 10", n)
	}
	checkAfter(t, st, "a", 0, 100, msgs("a", 10))
	checkOldest(t, st, "c", 42)
	checkLastSeq(t, st, "c", 42)
	if n := trim(t, st, base, 0, 0); n != 0 {
		t.Fatalf("Trim with no limits deleted %d", n)
	}
}

func (s *suite) testTrimByAge(t *testing.T) {
	st := s.newStore(t)
	// msg(room, seq) is sent at base + seq seconds.
	mustAppend(t, st, append(msgs("a", seqRange(1, 10)...), msgs("b", 2, 4, 20)...))
	now := base.Add(15 * time.Second)
	// Older than 10s at base+15s: sent before base+5s. A message exactly
	// 10s old (seq 5) is kept.
	if n := trim(t, st, now, 10*time.Second, 0); n != 4+2 {
		t.Fatalf("Trim(10s) deleted %d, want 6", n)
	}
	checkOldest(t, st, "a", 5)
	checkAfter(t, st, "a", 0, 100, msgs("a", seqRange(5, 10)...))
	checkAfter(t, st, "b", 0, 100, msgs("b", 20))
	// Both limits: age removes up to 7 in a, count up to 8.
	if n := trim(t, st, base.Add(17*time.Second), 10*time.Second, 2); n != 4 {
		t.Fatalf("Trim(10s, 2 per room) deleted %d, want 4", n)
	}
	checkAfter(t, st, "a", 0, 100, msgs("a", 9, 10))
	checkAfter(t, st, "b", 0, 100, msgs("b", 20))
	checkLastSeq(t, st, "a", 10)
	checkLastSeq(t, st, "b", 20)
}

// testTrimPrefixOnly checks that retention removes a prefix of a room's
// sequence: a message that is too old but follows one that is kept (its
// clock went back) stays, so no hole opens between Oldest and LastSeq.
func (s *suite) testTrimPrefixOnly(t *testing.T) {
	st := s.newStore(t)
	batch := msgs("a", 1, 2, 3, 4)
	batch[2].Time = base.Add(-time.Hour) // seq 3 has an old time
	mustAppend(t, st, batch)
	if n := trim(t, st, base.Add(3*time.Second), 1500*time.Millisecond, 0); n != 1 {
		t.Fatalf("Trim deleted %d, want 1 (seq 1 only)", n)
	}
	checkAfter(t, st, "a", 0, 100, batch[1:])
	checkOldest(t, st, "a", 2)
}

func (s *suite) testTrimAll(t *testing.T) {
	st := s.newStore(t)
	mustAppend(t, st, append(msgs("a", 1, 2, 3), msgs("b", 7)...))
	if n := trim(t, st, base.Add(time.Hour), time.Minute, 0); n != 4 {
		t.Fatalf("Trim deleted %d, want 4", n)
	}
	checkOldest(t, st, "a", 0)
	checkAfter(t, st, "a", 0, 100, nil)
	checkBefore(t, st, "a", 0, 100, nil)
	checkLastSeq(t, st, "a", 3)
	checkLastSeq(t, st, "b", 7)
	// The sequence goes on and is still never reused.
	if err := st.Append(ctx(t), msgs("a", 3)); !errors.Is(err, store.ErrSeqConflict) {
		t.Fatalf("Append of a trimmed seq = %v, want ErrSeqConflict", err)
	}
	mustAppend(t, st, msgs("a", 4))
	checkOldest(t, st, "a", 4)
	checkLastSeq(t, st, "a", 4)
}

// testLargeInterleavedBatch appends, in one batch, a few hundred messages
// of several rooms in turn, some with a client_msg_id, as a journal's
// batch is under load: an adapter may insert a batch in pieces of many
// rows, or in another order, and each room must still read back whole and
// in order.
func (s *suite) testLargeInterleavedBatch(t *testing.T) {
	st := s.newStore(t)
	rooms := []string{"a", "b", "c", "d", "e"}
	want := map[string][]store.Message{"c": msgs("c", 1)}
	mustAppend(t, st, want["c"])
	const perRoom = 97 // not a multiple of any likely piece
	var batch []store.Message
	for i := range perRoom {
		for _, room := range rooms {
			seq := uint64(i + 1)
			if room == "c" {
				seq++
			}
			m := msg(room, seq)
			if i%3 == 0 {
				m.ClientMsgID = fmt.Sprintf("id-%s-%d", room, seq)
			}
			batch = append(batch, m)
			want[room] = append(want[room], m)
		}
	}
	mustAppend(t, st, batch)
	for _, room := range rooms {
		checkAfter(t, st, room, 0, 2*perRoom, want[room])
		checkLastSeq(t, st, room, want[room][len(want[room])-1].Seq)
	}
	got, ok, err := st.FindClientMsg(ctx(t), "d", "user-d", "id-d-4")
	if err != nil || !ok || got.Seq != 4 {
		t.Fatalf("FindClientMsg(d, id-d-4) = %+v, %v, %v; want seq 4", got, ok, err)
	}
}

func (s *suite) testTrimChunks(t *testing.T) {
	st := s.newStore(t)
	const n = 2500 // more than one delete chunk of either adapter
	mustAppend(t, st, msgs("big", seqRange(1, n)...))
	if got := trim(t, st, base, 0, 10); got != n-10 {
		t.Fatalf("Trim deleted %d, want %d", got, n-10)
	}
	checkOldest(t, st, "big", n-9)
	checkAfter(t, st, "big", 0, 100, msgs("big", seqRange(n-9, n)...))
}

func (s *suite) testReadPositions(t *testing.T) {
	st := s.newStore(t)
	set := func(user, room string, seq uint64) {
		t.Helper()
		if err := st.SetRead(ctx(t), user, room, seq); err != nil {
			t.Fatalf("SetRead(%q, %q, %d): %v", user, room, seq, err)
		}
	}
	check := func(user string, exp map[string]uint64) {
		t.Helper()
		got, err := st.ReadPositions(ctx(t), user)
		if err != nil {
			t.Fatalf("ReadPositions(%q): %v", user, err)
		}
		if len(got) != len(exp) {
			t.Fatalf("ReadPositions(%q) = %v, want %v", user, got, exp)
		}
		for k, v := range exp {
			if got[k] != v {
				t.Fatalf("ReadPositions(%q) = %v, want %v", user, got, exp)
			}
		}
	}
	set("alice", "a", 5)
	set("alice", "b", 2)
	set("bob", "a", 1)
	check("alice", map[string]uint64{"a": 5, "b": 2})
	set("alice", "a", 3) // backwards: ignored
	set("alice", "a", 5) // same: ignored
	check("alice", map[string]uint64{"a": 5, "b": 2})
	set("alice", "a", 7)
	check("alice", map[string]uint64{"a": 7, "b": 2})
	check("bob", map[string]uint64{"a": 1})
	check("carol", map[string]uint64{})
	set("alice", "c", math.MaxInt64)
	check("alice", map[string]uint64{"a": 7, "b": 2, "c": math.MaxInt64})
	if err := st.SetRead(ctx(t), "alice", "d", math.MaxInt64+1); err == nil {
		t.Fatal("SetRead above MaxInt64 succeeded")
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	st := s.newStore(t)
	const (
		writers = 6
		batches = 15
		perBat  = 8
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			room := fmt.Sprintf("room-%d", w)
			for b := range batches {
				first := uint64(b*perBat + 1)
				batch := msgs(room, seqRange(first, first+perBat-1)...)
				if w%2 == 0 { // half the batches also touch a room of their own
					batch = append(batch, msg(fmt.Sprintf("side-%d", w), uint64(b+1)))
				}
				if err := st.Append(context.Background(), batch); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
			}
		}()
	}
	// Readers and Trim run meanwhile (for the race detector and for locks).
	var rw sync.WaitGroup
	rw.Add(1)
	go func() {
		defer rw.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for w := range writers {
				room := fmt.Sprintf("room-%d", w)
				if _, err := st.After(context.Background(), room, 0, 10); err != nil {
					errs <- fmt.Errorf("st.After: %w", err)
					return
				}
				if _, err := st.LastSeq(context.Background(), room); err != nil {
					errs <- fmt.Errorf("st.LastSeq: %w", err)
					return
				}
			}
			if _, err := st.Trim(context.Background(), base, 0, 1000); err != nil {
				errs <- fmt.Errorf("st.Trim: %w", err)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	rw.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for w := range writers {
		room := fmt.Sprintf("room-%d", w)
		checkLastSeq(t, st, room, batches*perBat)
		checkAfter(t, st, room, 0, 1000, msgs(room, seqRange(1, batches*perBat)...))
		if w%2 == 0 {
			checkLastSeq(t, st, fmt.Sprintf("side-%d", w), batches)
		}
	}
}

func (s *suite) testCanceled(t *testing.T) {
	st := s.newStore(t)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Append(c, msgs("a", 1, 2)); err == nil {
		t.Fatal("Append with a canceled context succeeded")
	}
	checkLastSeq(t, st, "a", 0)
	if _, err := st.After(c, "a", 0, 10); err == nil {
		t.Fatal("After with a canceled context succeeded")
	}
	// The store still works.
	mustAppend(t, st, msgs("a", 1, 2))
	checkLastSeq(t, st, "a", 2)
}

func (s *suite) testPing(t *testing.T) {
	st := s.open(t)
	if err := st.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping of an open store: %v", err)
	}
	mustAppend(t, st, msgs("a", 1))
	if err := st.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping after Append: %v", err)
	}
	checkLastSeq(t, st, "a", 1) // Ping changed nothing
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Ping(canceled); err == nil {
		t.Fatal("Ping with a canceled context succeeded")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx(t)); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

func (s *suite) testClose(t *testing.T) {
	st := s.open(t)
	mustAppend(t, st, msgs("a", 1))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := st.Append(ctx(t), msgs("a", 2)); err == nil {
		t.Fatal("Append after Close succeeded")
	}
	if _, err := st.LastSeq(ctx(t), "a"); err == nil {
		t.Fatal("LastSeq after Close succeeded")
	}
}

func (s *suite) testReopen(t *testing.T) {
	if s.reopen == nil {
		t.Skip("the opener cannot reopen a database")
	}
	open := s.reopen(t)
	st := open()
	first := msgs("a", 1, 2, 3, 4)
	first[3].ClientMsgID = "retry-me"
	mustAppend(t, st, append(first, msg("b", 5)))
	if err := st.SetRead(ctx(t), "alice", "a", 2); err != nil {
		t.Fatal(err)
	}
	trim(t, st, base, 0, 2) // a keeps 3, 4
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st = open()
	t.Cleanup(func() { st.Close() })
	checkLastSeq(t, st, "a", 4)
	checkLastSeq(t, st, "b", 5)
	checkOldest(t, st, "a", 3)
	checkAfter(t, st, "a", 0, 100, first[2:])
	if m, ok, err := st.FindClientMsg(ctx(t), "a", first[3].From, "retry-me"); err != nil || !ok || m.Seq != 4 {
		t.Fatalf("FindClientMsg after reopen = %d, %v, %v", m.Seq, ok, err)
	}
	if pos, err := st.ReadPositions(ctx(t), "alice"); err != nil || pos["a"] != 2 {
		t.Fatalf("ReadPositions after reopen = %v, %v", pos, err)
	}
	// Trim everything, reopen: the sequence is still not reused.
	trim(t, st, base.Add(time.Hour), time.Second, 0)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st = open()
	t.Cleanup(func() { st.Close() })
	checkLastSeq(t, st, "a", 4)
	checkOldest(t, st, "a", 0)
	if err := st.Append(ctx(t), msgs("a", 4)); !errors.Is(err, store.ErrSeqConflict) {
		t.Fatalf("Append of a used seq after reopen = %v, want ErrSeqConflict", err)
	}
	mustAppend(t, st, msgs("a", 5))
	checkAfter(t, st, "a", 0, 100, msgs("a", 5))
}

// BenchAppend benchmarks Append with batches of 1 to 4000 messages of
// about 100 bytes spread over 8 or 100 rooms, and reports msgs/s. Messages
// carry a client_msg_id, as a JSON client's do, except in the noids cases,
// which are what plain clients send (and chatbench's rooms scenario): ids
// land at scattered places in the store's index of them, so they cost page
// writes of their own. The text is one word, sent at one time, except in
// the chatbench case: 100 senders in 100 rooms, each message's text as
// chatbench's ("<sender> <seq> <unixnano> <tag>" padded to 64 bytes, two
// words of each new to a search index) and a time 10 µs after the one
// before, as at 100,000 msgs/s; its batch of 1,700 is what that scenario's
// closed loop of 3,200 messages in flight commits at a time. open returns
// a new, empty store, which the benchmark closes.
//
// Besides msgs/s it reports, where the system tells them, this process's
// CPU time (cpu-µs/msg) and bytes written to storage (wB/msg) per message
// during the loop: the whole cost of an embedded store such as SQLite,
// fsyncs and checkpoints included, but only the client's side of a
// store in another process such as PostgreSQL.
func BenchAppend(b *testing.B, open func(b *testing.B) store.Store) {
	for _, c := range []struct {
		size, rooms      int
		noIDs, chatbench bool
	}{{1, 8, false, false}, {100, 8, false, false}, {1000, 8, false, false}, {1000, 100, false, false},
		{1000, 100, true, false}, {4000, 100, true, false}, {1700, 100, true, true}} {
		size, rooms := c.size, c.rooms
		name := fmt.Sprintf("batch=%d/rooms=%d", size, rooms)
		if c.noIDs {
			name += "/noids"
		}
		if c.chatbench {
			name += "/chatbench"
		}
		b.Run(name, func(b *testing.B) {
			st := open(b)
			defer st.Close()
			text := strings.Repeat("x", 100)
			seqs := make(map[string]uint64)
			batch := make([]store.Message, size)
			now := time.Now()
			ctx := context.Background()
			var n int
			cpu0, w0, ok := usage()
			for b.Loop() {
				for i := range batch {
					room := fmt.Sprintf("room-%d", (n+i)%rooms)
					seqs[room]++
					batch[i] = store.Message{Room: room, Seq: seqs[room], From: "bench", Text: text, Time: now}
					if c.chatbench {
						at := now.Add(time.Duration(n+i) * 10 * time.Microsecond)
						sender := (n + i) % rooms
						t := fmt.Sprintf("%d %d %d 1764345600", sender, seqs[room], at.UnixNano())
						batch[i].From = fmt.Sprintf("bench-%d", sender)
						batch[i].Text = t + strings.Repeat("x", max(0, 64-len(t)))
						batch[i].Time = at
					}
					if !c.noIDs {
						batch[i].ClientMsgID = fmt.Sprint(n + i)
					}
				}
				if err := st.Append(ctx, batch); err != nil {
					b.Fatal(err)
				}
				n += size
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
			if cpu1, w1, ok1 := usage(); ok && ok1 && n > 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-µs/msg")
				b.ReportMetric(float64(w1-w0)/float64(n), "wB/msg")
			}
		})
	}
}
