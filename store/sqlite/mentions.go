package sqlite

import (
	"context"
	"fmt"
	"math"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

// Mentions implements store.Store.
func (s *Store) Mentions(ctx context.Context, user string, before int64, limit int) ([]store.Mention, error) {
	if limit <= 0 {
		return nil, nil
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+joinedMessageColumns+`, x.id, x.at
		FROM mentions x JOIN messages m ON m.room = x.room AND m.seq = x.seq
		WHERE x.user_name = ? AND x.id < ? ORDER BY x.id DESC LIMIT ?`, user, before, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: mentions of %q: %w", user, describe(err))
	}
	defer rows.Close()
	var out []store.Mention
	for rows.Next() {
		mn := store.Mention{User: user}
		var at int64
		mn.Message, err = scanMessage(withExtra{rows, []any{&mn.ID, &at}})
		if err != nil {
			return nil, fmt.Errorf("sqlite store: mentions of %q: %w", user, describe(err))
		}
		mn.At = span.Seq(at)
		out = append(out, mn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: mentions of %q: %w", user, describe(err))
	}
	return out, nil
}

// UnreadMentions implements store.Store.
func (s *Store) UnreadMentions(ctx context.Context, user string, max int) (map[string][]uint64, error) {
	unread := make(map[string][]uint64)
	if max <= 0 {
		return unread, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT room, at FROM (
		SELECT x.room, x.at, row_number() OVER (PARTITION BY x.room ORDER BY x.at DESC) AS n
		FROM mentions x LEFT JOIN read_positions r ON r.user_name = x.user_name AND r.room = x.room
		WHERE x.user_name = ? AND x.at > coalesce(r.seq, 0)) WHERE n <= ? ORDER BY room, at`, user, max)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: unread mentions of %q: %w", user, describe(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			room string
			at   int64
		)
		if err := rows.Scan(&room, &at); err != nil {
			return nil, fmt.Errorf("sqlite store: unread mentions of %q: %w", user, describe(err))
		}
		unread[room] = append(unread[room], span.Seq(at))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: unread mentions of %q: %w", user, describe(err))
	}
	return unread, nil
}

// MessageMentions implements store.Store.
func (s *Store) MessageMentions(ctx context.Context, room string, seq uint64) (map[string]uint64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT user_name, at FROM mentions WHERE room = ? AND seq = ?`, room, int64(seq))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: mentions of %s/%d: %w", room, seq, describe(err))
	}
	defer rows.Close()
	out := make(map[string]uint64)
	for rows.Next() {
		var (
			user string
			at   int64
		)
		if err := rows.Scan(&user, &at); err != nil {
			return nil, fmt.Errorf("sqlite store: mentions of %s/%d: %w", room, seq, describe(err))
		}
		out[user] = span.Seq(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: mentions of %s/%d: %w", room, seq, describe(err))
	}
	return out, nil
}

// withExtra scans a message row followed by the columns extra.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }
