package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// said is a chat message of room with seq, by from, sent at base + at
// seconds.
func said(room string, seq uint64, from string, at int, text string) store.Message {
	return store.Message{Room: room, Seq: seq, From: from, Text: text, Time: base.Add(time.Duration(at) * time.Second)}
}

// searcher is the store of a search test: s's, if it is a store.Searcher.
func (s *suite) searcher(t *testing.T) store.Searcher {
	t.Helper()
	st, ok := s.newStore(t).(store.Searcher)
	if !ok {
		t.Skip("the store has no full-text search")
	}
	return st
}

// search returns every hit of q, following its pages, as room/seq.
func search(t *testing.T, st store.Searcher, q store.SearchQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	var hits []string
	for range 1000 {
		page, err := st.Search(ctx(t), q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		if len(page.Hits) > q.Limit || len(page.After) != len(page.Hits) {
			t.Fatalf("Search(%+v) returned %d hits and %d cursors, limit %d", q, len(page.Hits), len(page.After), q.Limit)
		}
		if len(page.Hits) > 0 && page.Next != "" && page.Next != page.After[len(page.After)-1] {
			t.Fatalf("Search(%+v): Next %q is not the last hit's cursor %q", q, page.Next, page.After[len(page.After)-1])
		}
		for _, m := range page.Hits {
			if m.Change != store.ChangeNone || m.Deleted {
				t.Fatalf("Search(%+v) returned %+v, not a chat message", q, m)
			}
			hits = append(hits, fmt.Sprintf("%s/%d", m.Room, m.Seq))
		}
		if page.Next == "" {
			return hits
		}
		if len(page.Hits) == 0 {
			t.Fatalf("Search(%+v) returned an empty page with a next cursor", q)
		}
		q.Cursor = page.Next
	}
	t.Fatalf("Search(%+v) did not end", q)
	return nil
}

func checkSearch(t *testing.T, st store.Searcher, q store.SearchQuery, want ...string) {
	t.Helper()
	if got := search(t, st, q); !slices.Equal(got, want) {
		t.Errorf("Search(%+v) = %v; want %v", q, got, want)
	}
}

func words(q string) []string { return store.SearchWords(q) }

// testSearch: every word must occur, in any case, the last also as a
// prefix if asked; hits come newest first, with their current state; the filters
// narrow them; texts are literal.
func (s *suite) testSearch(t *testing.T) {
	st := s.searcher(t)
	mustAppend(t, st, []store.Message{
		said("a", 1, "alice", 1, "The quick brown fox"),
		said("a", 2, "bob", 5, "a QUICK reply; brown bread"),
		said("b", 1, "alice", 3, "quickly, said the fox"),
		said("b", 2, "carol", 7, `'; DROP TABLE messages; -- "quick" OR fox* NEAR(x)`),
		said("c", 1, "bob", 9, "grüße aus München, 東京 quick"),
		said("c", 2, "bob", 11, "nul\x00quick and \xff\xfe invalid"),
	})
	checkSearch(t, st, store.SearchQuery{Words: words("quick")}, "c/2", "c/1", "b/2", "a/2", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("quick"), Prefix: true}, "c/2", "c/1", "b/2", "a/2", "b/1", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("QUICK brown")}, "a/2", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("brown qui")})
	checkSearch(t, st, store.SearchQuery{Words: words("brown qui"), Prefix: true}, "a/2", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("qui brown"), Prefix: true}) // only the last is a prefix
	checkSearch(t, st, store.SearchQuery{Words: words("fox")}, "b/2", "b/1", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("münchen")}, "c/1")
	checkSearch(t, st, store.SearchQuery{Words: words("東京")}, "c/1")
	checkSearch(t, st, store.SearchQuery{Words: words("invalid")}, "c/2")
	checkSearch(t, st, store.SearchQuery{Words: words(`"drop table" OR`)}, "b/2")
	checkSearch(t, st, store.SearchQuery{Words: words("nothing"), Prefix: true})

	quick := func(q store.SearchQuery) store.SearchQuery {
		q.Words, q.Prefix = words("quick"), true
		return q
	}
	checkSearch(t, st, quick(store.SearchQuery{Room: "a"}), "a/2", "a/1")
	checkSearch(t, st, quick(store.SearchQuery{From: "alice"}), "b/1", "a/1")
	checkSearch(t, st, quick(store.SearchQuery{From: "bob", Room: "c"}), "c/2", "c/1")
	checkSearch(t, st, quick(store.SearchQuery{After: base.Add(3 * time.Second)}), "c/2", "c/1", "b/2", "a/2")
	checkSearch(t, st, quick(store.SearchQuery{Before: base.Add(5 * time.Second)}), "b/1", "a/1")
	checkSearch(t, st, quick(store.SearchQuery{After: base.Add(3 * time.Second), Before: base.Add(9 * time.Second)}), "b/2", "a/2")

	page, err := st.Search(ctx(t), store.SearchQuery{Words: words("bread"), Limit: 10})
	if err != nil || len(page.Hits) != 1 || page.Next != "" {
		t.Fatalf("Search(bread) = %+v, %v; want one hit and no more", page, err)
	}
	if got, want := page.Hits[0], want(said("a", 2, "bob", 5, "a QUICK reply; brown bread")); !equalMessage(got, want) {
		t.Errorf("the hit reads %+v; want %+v", got, want)
	}
	if page, err := st.Search(ctx(t), store.SearchQuery{Words: words("quick"), Limit: 0}); err != nil || len(page.Hits) != 0 {
		t.Errorf("Search with limit 0 = %+v, %v; want nothing", page, err)
	}
}

// equalMessage compares the fields a search hit has.
func equalMessage(a, b store.Message) bool {
	return a.Room == b.Room && a.Seq == b.Seq && a.From == b.From && a.Text == b.Text && a.Time.Equal(b.Time) &&
		a.Change == b.Change && a.Deleted == b.Deleted && a.Edited.Equal(b.Edited)
}

// testSearchPaging: pages of any size list every hit once, in order, in
// both orders, also with messages stored out of time order and many in
// one batch; a cursor from elsewhere is refused.
func (s *suite) testSearchPaging(t *testing.T) {
	st := s.searcher(t)
	var batch []store.Message
	var newest []string
	for i := range 150 {
		room := fmt.Sprintf("r%d", i%3)
		seq := uint64(i/3 + 1)
		// Each room's times go up with its seqs, but the rooms take turns
		// out of time order within the batch.
		at := i/3*10 + []int{2, 0, 1}[i%3]
		batch = append(batch, said(room, seq, "u", at, fmt.Sprintf("needle %d", i)))
	}
	mustAppend(t, st, batch)
	sorted := slices.Clone(batch)
	slices.SortFunc(sorted, func(a, b store.Message) int { return b.Time.Compare(a.Time) })
	for _, m := range sorted {
		newest = append(newest, fmt.Sprintf("%s/%d", m.Room, m.Seq))
	}
	for _, limit := range []int{1, 7, 50, 149, 150, 151} {
		checkSearch(t, st, store.SearchQuery{Words: words("needle"), Limit: limit}, newest...)
		best := search(t, st, store.SearchQuery{Words: words("needle"), Order: store.SearchBest, Limit: limit})
		if got, want := slices.Sorted(slices.Values(best)), slices.Sorted(slices.Values(newest)); !slices.Equal(got, want) {
			t.Errorf("best first, %d a page, found %v; want each of %v once", limit, best, newest)
		}
	}
	for _, order := range []store.SearchOrder{store.SearchNewest, store.SearchBest} {
		// A page cut after its second hit continues from there.
		page, err := st.Search(ctx(t), store.SearchQuery{Words: words("needle"), Order: order, Limit: 5})
		if err != nil || len(page.Hits) != 5 {
			t.Fatalf("Search(needle, order %d) = %d hits, %v", order, len(page.Hits), err)
		}
		rest, err := st.Search(ctx(t), store.SearchQuery{Words: words("needle"), Order: order, Limit: 1, Cursor: page.After[1]})
		if err != nil || len(rest.Hits) != 1 || rest.Hits[0].Room != page.Hits[2].Room || rest.Hits[0].Seq != page.Hits[2].Seq {
			t.Errorf("after the second hit, order %d, comes %+v, %v; want %s/%d", order, rest.Hits, err, page.Hits[2].Room, page.Hits[2].Seq)
		}
		_, err = st.Search(ctx(t), store.SearchQuery{Words: words("needle"), Order: order, Limit: 5, Cursor: "not a cursor"})
		if !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("Search with a made-up cursor, order %d: %v; want ErrBadCursor", order, err)
		}
	}
}

// testSearchBest: best first ranks a message with the words more often
// and more densely above one that has them once among others.
func (s *suite) testSearchBest(t *testing.T) {
	st := s.searcher(t)
	mustAppend(t, st, []store.Message{
		said("a", 1, "u", 1, "apple pie, apple tart, apple crumble: apple"),
		said("a", 2, "u", 2, "we talked about many things today, and at some point an apple came up, then we went on"),
		said("a", 3, "u", 3, "apple apple"),
	})
	got := search(t, st, store.SearchQuery{Words: words("apple"), Order: store.SearchBest})
	if len(got) != 3 || got[2] != "a/2" {
		t.Errorf("best first = %v; want a/2, with one apple among many words, last", got)
	}
}

// testSearchBestRanksTheNewestWindow: best first ranks the newest
// store.SearchBestWindow matches only, so an older message that matches
// best is not among its hits, and messages stored while it pages do not
// join or shift it; before reaches the older ones.
func (s *suite) testSearchBestRanksTheNewestWindow(t *testing.T) {
	st := s.searcher(t)
	msgs := []store.Message{said("a", 1, "u", 1, "apple apple apple apple")}
	for i := 2; i <= store.SearchBestWindow+1; i++ {
		msgs = append(msgs, said("a", uint64(i), "u", i, "an apple among many other words of a long message"))
	}
	mustAppend(t, st, msgs)
	q := store.SearchQuery{Words: words("apple"), Order: store.SearchBest, Limit: 100}
	page, err := st.Search(ctx(t), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Hits) == 0 || page.Hits[0].Seq == 1 {
		t.Fatalf("best first begins with %v; want a message of the newest %d, not a/1", page.Hits[:min(1, len(page.Hits))], store.SearchBestWindow)
	}
	mustAppend(t, st, []store.Message{said("a", uint64(store.SearchBestWindow+2), "u", store.SearchBestWindow+2, "apple apple apple")})
	q.Cursor = page.Next
	rest := search(t, st, q)
	if n := len(page.Hits) + len(rest); n != store.SearchBestWindow || slices.Contains(rest, "a/1") || slices.Contains(rest, fmt.Sprintf("a/%d", store.SearchBestWindow+2)) {
		t.Errorf("best first paged %d hits, after the first page %v; want the %d of the first page's window", n, rest, store.SearchBestWindow)
	}
	checkSearch(t, st, store.SearchQuery{Words: words("apple"), Order: store.SearchBest, Before: base.Add(2 * time.Second)}, "a/1")
}

// testSearchFollowsChanges: the index follows edits (the new text is
// found, the old no more, and an edit's own text is never a hit),
// deletes and Trim.
func (s *suite) testSearchFollowsChanges(t *testing.T) {
	st := s.searcher(t)
	mustAppend(t, st, []store.Message{
		said("a", 1, "u", 1, "first draft"),
		said("a", 2, "u", 2, "to be deleted draft"),
		said("a", 3, "u", 3, "kept draft"),
	})
	mustAppend(t, st, []store.Message{
		change("a", 4, store.ChangeEdit, 1, "second version"),
		change("a", 5, store.ChangeDelete, 2, ""),
	})
	checkSearch(t, st, store.SearchQuery{Words: words("first")})
	checkSearch(t, st, store.SearchQuery{Words: words("second version")}, "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("draft")}, "a/3")
	checkSearch(t, st, store.SearchQuery{Words: words("deleted")})
	mustAppend(t, st, []store.Message{change("a", 6, store.ChangeEdit, 2, "edited after delete")})
	checkSearch(t, st, store.SearchQuery{Words: words("edited")})

	page, err := st.Search(ctx(t), store.SearchQuery{Words: words("version"), Limit: 1})
	if err != nil || len(page.Hits) != 1 || page.Hits[0].Edited.IsZero() || page.Hits[0].Text != "second version" {
		t.Fatalf("the edited hit reads %+v, %v; want its new text and Edited", page, err)
	}

	// Messages 1 and 2 go, and the changes of them with them.
	if n := trim(t, st, base, 0, 4); n != 5 {
		t.Fatalf("Trim(max 4) deleted %d, want 5", n)
	}
	checkSearch(t, st, store.SearchQuery{Words: words("version")})
	checkSearch(t, st, store.SearchQuery{Words: words("kept")}, "a/3")
	mustAppend(t, st, []store.Message{said("a", 7, "u", 7, "kept again")})
	checkSearch(t, st, store.SearchQuery{Words: words("kept")}, "a/7", "a/3")
}

// testSearchNumbered: messages and edits stored by AppendNumbered are
// indexed like those of Append, accents folded.
func (s *suite) testSearchNumbered(t *testing.T) {
	st := s.searcher(t)
	seqr, ok := st.(store.Sequencer)
	if !ok {
		t.Skip("the store does not number messages")
	}
	ms := []store.Message{said("a", 0, "u", 1, "numbered words"), said("b", 0, "u", 2, "numbered too")}
	if _, err := seqr.AppendNumbered(ctx(t), ms); err != nil {
		t.Fatal(err)
	}
	checkSearch(t, st, store.SearchQuery{Words: words("numbered")}, "b/1", "a/1")
	if _, err := seqr.AppendNumbered(ctx(t), []store.Message{said("c", 0, "u", 3, "déjà vu")}); err != nil {
		t.Fatal(err)
	}
	checkSearch(t, st, store.SearchQuery{Words: words("deja")}, "c/1")
	edit := change("a", 0, store.ChangeEdit, 1, "renumbered")
	if _, err := seqr.AppendNumbered(ctx(t), []store.Message{edit}); err != nil {
		t.Fatal(err)
	}
	checkSearch(t, st, store.SearchQuery{Words: words("numbered")}, "b/1")
	checkSearch(t, st, store.SearchQuery{Words: words("renumbered")}, "a/1")
}

// testSearchFoldsAccents: a word matches without regard to its accents,
// either way round, also as a prefix and in an edited text, and they do
// not make a word of their own.
func (s *suite) testSearchFoldsAccents(t *testing.T) {
	st := s.searcher(t)
	mustAppend(t, st, []store.Message{
		said("a", 1, "u", 1, "un café, s'il vous plaît"),
		said("a", 2, "u", 2, "cafe au lait"),
		said("a", 3, "u", 3, "Crème BRÛLÉE for niño"),
		said("a", 4, "u", 4, "a plain draft"),
		said("a", 5, "u", 5, "Ångström"),
	})
	mustAppend(t, st, []store.Message{change("a", 6, store.ChangeEdit, 4, "naïve résumé")})
	checkSearch(t, st, store.SearchQuery{Words: words("cafe")}, "a/2", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("café")}, "a/2", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("CAFÉ")}, "a/2", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("caf"), Prefix: true}, "a/2", "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("plait")}, "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("creme brulee")}, "a/3")
	checkSearch(t, st, store.SearchQuery{Words: words("crème brûlée nino")}, "a/3")
	checkSearch(t, st, store.SearchQuery{Words: words("angstrom")}, "a/5")
	checkSearch(t, st, store.SearchQuery{Words: words("naive resume")}, "a/4")
	checkSearch(t, st, store.SearchQuery{Words: words("draft")})
	checkSearch(t, st, store.SearchQuery{Words: words("caf")})
}

// testSearchChangesInTheirTargetsBatch: an edit or a delete in the same
// batch as the message it changes, and a message of another room between
// them, leave the index as if they had come one batch each.
func (s *suite) testSearchChangesInTheirTargetsBatch(t *testing.T) {
	st := s.searcher(t)
	mustAppend(t, st, []store.Message{
		said("a", 1, "u", 1, "first draft"),
		said("a", 2, "u", 2, "doomed draft"),
		said("b", 1, "u", 3, "other room draft"),
		change("a", 3, store.ChangeEdit, 1, "second version"),
		change("a", 4, store.ChangeDelete, 2, ""),
		said("a", 5, "u", 5, "later draft"),
	})
	checkSearch(t, st, store.SearchQuery{Words: words("first")})
	checkSearch(t, st, store.SearchQuery{Words: words("doomed")})
	checkSearch(t, st, store.SearchQuery{Words: words("second version")}, "a/1")
	checkSearch(t, st, store.SearchQuery{Words: words("draft")}, "a/5", "b/1")
}
