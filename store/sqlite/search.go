package sqlite

import (
	"context"
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
// match; the best come from sorting every match by bm25.
func (s *Store) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	if len(q.Words) == 0 || q.Limit <= 0 {
		return store.SearchPage{}, nil
	}
	var (
		where strings.Builder
		args  = []any{matchExpr(q.Words, q.Prefix)}
	)
	where.WriteString(`search_words MATCH ? AND m.deleted = 0`)
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.After.IsZero() {
		lo = docMilli(q.After) << docBits
		where.WriteString(` AND m.time_us > ?`)
		args = append(args, q.After.UnixMicro())
	}
	if !q.Before.IsZero() {
		hi = (docMilli(q.Before) + 1) << docBits
		where.WriteString(` AND m.time_us < ?`)
		args = append(args, q.Before.UnixMicro())
	}
	if q.Room != "" {
		where.WriteString(` AND d.room = ?`)
		args = append(args, q.Room)
	}
	if q.From != "" {
		where.WriteString(` AND m.sender = ?`)
		args = append(args, q.From)
	}
	var order string
	offset := 0
	switch q.Order {
	case store.SearchNewest:
		if q.Cursor != "" {
			id, err := strconv.ParseInt(strings.TrimPrefix(q.Cursor, "n"), 10, 64)
			if err != nil || !strings.HasPrefix(q.Cursor, "n") {
				return store.SearchPage{}, fmt.Errorf("sqlite store: search: %q: %w", q.Cursor, store.ErrBadCursor)
			}
			hi = min(hi, id)
		}
		order = `w.rowid DESC`
	case store.SearchBest:
		if q.Cursor != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(q.Cursor, "b"))
			if err != nil || n < 0 || !strings.HasPrefix(q.Cursor, "b") {
				return store.SearchPage{}, fmt.Errorf("sqlite store: search: %q: %w", q.Cursor, store.ErrBadCursor)
			}
			offset = n
		}
		order = `w.rank, w.rowid DESC`
	default:
		return store.SearchPage{}, fmt.Errorf("sqlite store: search: unknown order %d", q.Order)
	}
	where.WriteString(` AND w.rowid >= ? AND w.rowid < ?`)
	args = append(args, lo, hi, q.Limit+1, offset)
	query := `SELECT m.room, m.seq, m.sender, m.text, m.client_msg_id, m.time_us, m.kind, m.target, m.edited_us, m.deleted,
		m.reply_to, m.thread, m.also_room, m.replies, m.last_reply_seq, m.last_reply_us, w.rowid
		FROM search_words w JOIN search_docs d ON d.id = w.rowid JOIN messages m ON m.room = d.room AND m.seq = d.seq
		WHERE ` + where.String() + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	rows, err := s.r.QueryContext(ctx, query, args...)
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
			page.After = append(page.After, "b"+strconv.Itoa(offset+len(page.Hits)))
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

// matchExpr is the FTS5 query for words: each a quoted string (words hold
// only letters and digits, never a quote), the last a prefix if prefix.
func matchExpr(words []string, prefix bool) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + w + `"`)
	}
	if prefix {
		b.WriteByte('*')
	}
	return b.String()
}

// withID scans a message's columns and then the hit's search id.
type withID struct {
	row interface{ Scan(...any) error }
	id  *int64
}

func (w withID) Scan(dest ...any) error { return w.row.Scan(append(dest, w.id)...) }
