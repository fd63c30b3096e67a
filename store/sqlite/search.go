package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/store"
)

var _ store.Searcher = (*Store)(nil)

// docBits is how many low bits of a search_docs id count the messages of
// one millisecond, and maxDocMilli bounds the milliseconds of its high
// bits (see migrations/0006_search.sql).
const (
	docBits     = 16
	maxDocMilli = 1 << 46
)

// docMilli is the high bits of the ids of the messages of t.
func docMilli(t time.Time) int64 {
	return max(min(t.UnixMicro()/1000, maxDocMilli), -maxDocMilli)
}

// Search implements store.Searcher with the FTS5 index search_words. The
// newest hits come from walking the index's rowids, which are in time
// order, backwards, so a page costs about the same however many messages
// match; a room or an author is a term of the index (its tags column), so
// the walk reads only the messages in that room or by that author, and a
// time bound is a range of rowids. The best are the newest
// store.SearchBestWindow matches sorted by bm25, so that a common word
// does not rank every message that holds it.
func (s *Store) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	if len(q.Words) == 0 || q.Limit <= 0 {
		return store.SearchPage{}, nil
	}
	st, err := s.searchStatement(ctx, q)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("sqlite store: search: %w", err)
	}
	offset := st.offset
	rows, err := s.r.QueryContext(ctx, st.query, st.args...)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("sqlite store: search: %w", describe(err))
	}
	defer rows.Close()
	var page store.SearchPage
	for rows.Next() {
		var id int64
		m, err := scanMessage(withID{rows, &id})
		if err != nil {
			return store.SearchPage{}, fmt.Errorf("sqlite store: search: %w", describe(err))
		}
		page.Hits = append(page.Hits, m)
		if q.Order == store.SearchBest {
			page.After = append(page.After, "b"+strconv.Itoa(offset+len(page.Hits))+"."+strconv.FormatInt(st.top, 10))
		} else {
			page.After = append(page.After, "n"+strconv.FormatInt(id, 10))
		}
	}
	if err := rows.Err(); err != nil {
		return store.SearchPage{}, fmt.Errorf("sqlite store: search: %w", describe(err))
	}
	if len(page.Hits) > q.Limit {
		page.Hits, page.After = page.Hits[:q.Limit], page.After[:q.Limit]
		page.Next = page.After[q.Limit-1]
	}
	return page, nil
}

// searchStmt is the statement that reads a page of a search.
type searchStmt struct {
	query  string
	args   []any
	offset int   // best first: the hits of the pages before
	top    int64 // best first: the end of the window's rowids
}

// searchStatement is the statement for q's page (q has words and a
// limit).
func (s *Store) searchStatement(ctx context.Context, q store.SearchQuery) (searchStmt, error) {
	// The rowid range holds the bounds' milliseconds; the exact bounds
	// are checked on the few hits in their first and last millisecond.
	args := []any{matchExpr(q)}
	residual := `m.deleted = 0`
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.After.IsZero() {
		lo = docMilli(q.After) << docBits
		residual += ` AND m.time_us > ` + strconv.FormatInt(q.After.UnixMicro(), 10)
	}
	if !q.Before.IsZero() {
		hi = (docMilli(q.Before) + 1) << docBits
		residual += ` AND m.time_us < ` + strconv.FormatInt(q.Before.UnixMicro(), 10)
	}
	var st searchStmt
	switch q.Order {
	case store.SearchNewest:
		if q.Cursor != "" {
			id, err := strconv.ParseInt(strings.TrimPrefix(q.Cursor, "n"), 10, 64)
			if err != nil || !strings.HasPrefix(q.Cursor, "n") {
				return searchStmt{}, fmt.Errorf("%q: %w", q.Cursor, store.ErrBadCursor)
			}
			hi = min(hi, id)
		}
		st.args = append(args, lo, hi, q.Limit+1)
		st.query = `SELECT ` + joinedMessageColumns + `, w.rowid
			FROM search_words w JOIN search_docs d ON d.id = w.rowid JOIN messages m ON m.room = d.room AND m.seq = d.seq
			WHERE search_words MATCH ? AND w.rowid >= ? AND w.rowid < ? AND ` + residual + `
			ORDER BY w.rowid DESC LIMIT ?`
	case store.SearchBest:
		if q.Cursor != "" {
			n, top, ok := parseBestCursor(q.Cursor)
			if !ok {
				return searchStmt{}, fmt.Errorf("%q: %w", q.Cursor, store.ErrBadCursor)
			}
			st.offset, hi = n, min(hi, top)
		} else {
			// The window of the first page is kept by the pages after it,
			// so that messages stored meanwhile do not shift the ranks.
			var top sql.NullInt64
			if err := s.r.QueryRowContext(ctx, `SELECT max(id) FROM search_docs`).Scan(&top); err != nil {
				return searchStmt{}, describe(err)
			}
			if top.Valid && top.Int64 < hi {
				hi = top.Int64 + 1
			}
		}
		st.top = hi
		// The subquery's LIMIT keeps SQLite from flattening it: bm25 is
		// computed for the window's rows only.
		st.args = append(args, lo, hi, store.SearchBestWindow, q.Limit+1, st.offset)
		st.query = `SELECT ` + joinedMessageColumns + `, w.id
			FROM (SELECT rowid AS id, rank AS r FROM search_words
				WHERE search_words MATCH ? AND rowid >= ? AND rowid < ? ORDER BY rowid DESC LIMIT ?) w
			JOIN search_docs d ON d.id = w.id JOIN messages m ON m.room = d.room AND m.seq = d.seq
			WHERE ` + residual + `
			ORDER BY w.r, w.id DESC LIMIT ? OFFSET ?`
	default:
		return searchStmt{}, fmt.Errorf("unknown order %d", q.Order)
	}
	return st, nil
}

// matchExpr is the FTS5 query for q: its words in the text column, each a
// quoted string (words hold only letters and digits, never a quote), the
// last a prefix if q.Prefix; and its room and author as the tags of
// migrations/0008_search_tags.sql.
func matchExpr(q store.SearchQuery) string {
	var b strings.Builder
	b.WriteString(`text : (`)
	for i, w := range q.Words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + w + `"`)
	}
	if q.Prefix {
		b.WriteByte('*')
	}
	b.WriteByte(')')
	if q.Room != "" {
		b.WriteString(` AND tags : "r` + hex.EncodeToString([]byte(q.Room)) + `"`)
	}
	if q.From != "" {
		b.WriteString(` AND tags : "f` + hex.EncodeToString([]byte(q.From)) + `"`)
	}
	return b.String()
}

// parseBestCursor reads a best-first cursor: "b", the hits before it, ".",
// and the end of the first page's window of rowids.
func parseBestCursor(c string) (n int, top int64, ok bool) {
	rest, ok := strings.CutPrefix(c, "b")
	if !ok {
		return 0, 0, false
	}
	ns, tops, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(ns)
	top, err2 := strconv.ParseInt(tops, 10, 64)
	if err1 != nil || err2 != nil || n < 0 {
		return 0, 0, false
	}
	return n, top, true
}

// withID scans a message's columns and then the hit's search id.
type withID struct {
	row interface{ Scan(...any) error }
	id  *int64
}

func (w withID) Scan(dest ...any) error { return w.row.Scan(append(dest, w.id)...) }
