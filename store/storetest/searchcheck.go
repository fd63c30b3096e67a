package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/chatd/chatd/store"
)

// CheckSearches searches s for each query of want (words as a user types
// them, no filters) and reports every query whose hits, as "room/seq" in
// any order, are not the ones listed.
func CheckSearches(t testing.TB, s store.Searcher, want map[string][]string) {
	t.Helper()
	for q, w := range want {
		page, err := s.Search(context.Background(), store.SearchQuery{Words: store.SearchWords(q), Limit: 10})
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		var got []string
		for _, m := range page.Hits {
			got = append(got, fmt.Sprintf("%s/%d", m.Room, m.Seq))
		}
		slices.Sort(got)
		w = slices.Sorted(slices.Values(w))
		if !slices.Equal(got, w) {
			t.Errorf("Search(%q) = %v; want %v", q, got, w)
		}
	}
}
