package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/storetest"
)

// TestSearchFindsMessagesInTheGINPendingList: the words of new messages
// wait in the GIN index's pending list until a merge, and a search finds
// them there as it does once merged, following the edits and deletes
// stored after them.
func TestSearchFindsMessagesInTheGINPendingList(t *testing.T) {
	dsn, _ := newSchema(t)
	ctx := context.Background()
	s := open(t, dsn)
	defer s.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, batch := range [][]store.Message{{
		{Room: "a", Seq: 1, From: "u", Text: "pending alpha", Time: at},
		{Room: "a", Seq: 2, From: "u", Text: "pending alpha beta", Time: at},
		{Room: "a", Seq: 3, From: "u", Text: "kept alpha", Time: at},
	}, {
		{Room: "a", Seq: 4, From: "u", Change: store.ChangeEdit, Target: 2, Text: "gamma", Time: at.Add(time.Second)},
		{Room: "a", Seq: 5, From: "u", Change: store.ChangeDelete, Target: 1, Time: at.Add(time.Second)},
	}} {
		if err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{"alpha": {"a/3"}, "gamma": {"a/2"}, "pending": nil, "beta": nil}
	t.Run("pending", func(t *testing.T) { storetest.CheckSearches(t, s, want) })
	var pages int64
	if err := adminConn(t, dsn).QueryRow(ctx, `SELECT gin_clean_pending_list('messages_words'::regclass)`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages == 0 {
		t.Fatal("the GIN index of words had no pending list to merge: its entries were inserted one message at a time")
	}
	t.Run("merged", func(t *testing.T) { storetest.CheckSearches(t, s, want) })
}
