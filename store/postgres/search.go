package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/store"
)

var _ store.Searcher = (*Store)(nil)

// Search implements store.Searcher with the GIN index on messages.words
// and the btree indexes of migrations/0010_search_order.sql, between which
// the planner chooses. Newest first pages by the last hit's (time, room,
// seq); best first ranks (ts_rank) the newest store.SearchBestWindow
// matches and pages by an offset.
func (s *Store) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	if len(q.Words) == 0 || q.Limit <= 0 {
		return store.SearchPage{}, nil
	}
	var (
		where strings.Builder
		args  = []any{tsquery(q.Words, q.Prefix)}
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where.WriteString(`words @@ to_tsquery('chatd_words', $1) AND kind = '' AND NOT deleted`)
	if !q.After.IsZero() {
		where.WriteString(` AND time > ` + arg(q.After))
	}
	if !q.Before.IsZero() {
		where.WriteString(` AND time < ` + arg(q.Before))
	}
	if q.Room != "" {
		where.WriteString(` AND room = ` + arg(q.Room))
	}
	if q.From != "" {
		where.WriteString(` AND sender = ` + arg(q.From))
	}
	var (
		query string
		top   time.Time
	)
	offset := 0
	switch q.Order {
	case store.SearchNewest:
		if q.Cursor != "" {
			tm, room, seq, ok := parseNewestCursor(q.Cursor)
			if !ok {
				return store.SearchPage{}, fmt.Errorf("postgres store: search: %q: %w", q.Cursor, store.ErrBadCursor)
			}
			where.WriteString(` AND (time, room, seq) < (` + arg(tm) + `, ` + arg(room) + `, ` + arg(seq) + `)`)
		}
		query = selectMessage + `WHERE ` + where.String() + ` ORDER BY time DESC, room DESC, seq DESC` +
			` LIMIT ` + arg(q.Limit+1)
	case store.SearchBest:
		if q.Cursor != "" {
			n, us, ok := parseBestCursor(q.Cursor)
			if !ok {
				return store.SearchPage{}, fmt.Errorf("postgres store: search: %q: %w", q.Cursor, store.ErrBadCursor)
			}
			offset, top = n, time.UnixMicro(us)
		} else {
			// The window of the first page is kept by the pages after it,
			// so that messages stored meanwhile do not shift the ranks.
			var newest *time.Time
			if err := s.pool.QueryRow(ctx, `SELECT max(time) FROM messages WHERE words IS NOT NULL`).Scan(&newest); err != nil {
				return store.SearchPage{}, fmt.Errorf("postgres store: search: %w", err)
			}
			if newest == nil {
				return store.SearchPage{}, nil
			}
			top = *newest
		}
		where.WriteString(` AND time <= ` + arg(top))
		// Only the window's rows are ranked: a common word would otherwise
		// rank most of the messages.
		query = strings.TrimSuffix(selectMessage, `FROM messages `) +
			`FROM (SELECT * FROM messages WHERE ` + where.String() +
			` ORDER BY time DESC, room DESC, seq DESC LIMIT ` + arg(store.SearchBestWindow) + `) messages` +
			` ORDER BY ts_rank(words, to_tsquery('chatd_words', $1)) DESC, time DESC, room DESC, seq DESC` +
			` LIMIT ` + arg(q.Limit+1) + ` OFFSET ` + arg(offset)
	default:
		return store.SearchPage{}, fmt.Errorf("postgres store: search: unknown order %d", q.Order)
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("postgres store: search: %w", err)
	}
	defer rows.Close()
	var page store.SearchPage
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return store.SearchPage{}, fmt.Errorf("postgres store: search: %w", err)
		}
		page.Hits = append(page.Hits, m)
		if q.Order == store.SearchBest {
			page.After = append(page.After, "b"+strconv.Itoa(offset+len(page.Hits))+"."+strconv.FormatInt(top.UnixMicro(), 10))
		} else {
			// The room last: it may hold any character.
			page.After = append(page.After, fmt.Sprintf("n%d.%d.%s", m.Time.UnixMicro(), m.Seq, m.Room))
		}
	}
	if err := rows.Err(); err != nil {
		return store.SearchPage{}, fmt.Errorf("postgres store: search: %w", err)
	}
	if len(page.Hits) > q.Limit {
		page.Hits, page.After = page.Hits[:q.Limit], page.After[:q.Limit]
		page.Next = page.After[q.Limit-1]
	}
	return page, nil
}

// parseBestCursor reads a best-first cursor: "b", the hits before it, ".",
// and the time of the newest message of the first page's moment, in
// microseconds.
func parseBestCursor(c string) (n int, us int64, ok bool) {
	rest, ok := strings.CutPrefix(c, "b")
	if !ok {
		return 0, 0, false
	}
	ns, uss, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(ns)
	us, err2 := strconv.ParseInt(uss, 10, 64)
	if err1 != nil || err2 != nil || n < 0 {
		return 0, 0, false
	}
	return n, us, true
}

func parseNewestCursor(c string) (tm time.Time, room string, seq int64, ok bool) {
	rest, ok := strings.CutPrefix(c, "n")
	if !ok {
		return time.Time{}, "", 0, false
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) != 3 {
		return time.Time{}, "", 0, false
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, "", 0, false
	}
	return time.UnixMicro(us), parts[2], seq, true
}

// tsquery is the text search query for words: all of them, the last as a
// prefix if prefix. Each is quoted; words hold only letters and digits,
// never a quote or an operator.
func tsquery(words []string, prefix bool) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteString("'" + w + "'")
	}
	if prefix {
		b.WriteString(":*")
	}
	return b.String()
}

// searchText is text as to_tsvector can read it: valid UTF-8 without
// U+0000, which PostgreSQL's text cannot hold. Both only separate words,
// as they do in store.SearchWords.
func searchText(text string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(text, " "), "\x00", " ")
}

// wordsText is the text of m's words: its text for a chat message, none
// for a change.
func wordsText(m store.Message) string {
	if m.Change != store.ChangeNone {
		return ""
	}
	return searchText(m.Text)
}
