package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

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
	rows, err := s.pool.Query(ctx, `SELECT m.room, m.seq, m.sender, m.text, m.client_msg_id, m.time, m.kind,
		m.target, m.edited, m.deleted, m.reply_to, m.thread, m.also_room, m.replies, m.last_reply_seq, m.last_reply, x.id, x.at
		FROM mentions x JOIN messages m ON m.room = x.room AND m.seq = x.seq
		WHERE x.user_name = $1 AND x.id < $2 ORDER BY x.id DESC LIMIT $3`, user, before, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres store: mentions of %q: %w", user, err)
	}
	defer rows.Close()
	var out []store.Mention
	for rows.Next() {
		mn := store.Mention{User: user}
		var at int64
		mn.Message, err = scanMessage(withExtra{rows, []any{&mn.ID, &at}})
		if err != nil {
			return nil, fmt.Errorf("postgres store: mentions of %q: %w", user, err)
		}
		mn.At = span.Seq(at)
		out = append(out, mn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: mentions of %q: %w", user, err)
	}
	return out, nil
}

// UnreadMentions implements store.Store.
func (s *Store) UnreadMentions(ctx context.Context, user string, max int) (map[string][]uint64, error) {
	unread := make(map[string][]uint64)
	if max <= 0 {
		return unread, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT room, at FROM (
		SELECT x.room, x.at, row_number() OVER (PARTITION BY x.room ORDER BY x.at DESC) AS n
		FROM mentions x LEFT JOIN read_positions r ON r.user_name = x.user_name AND r.room = x.room
		WHERE x.user_name = $1 AND x.at > coalesce(r.seq, 0)) AS u WHERE n <= $2 ORDER BY room, at`, user, max)
	if err != nil {
		return nil, fmt.Errorf("postgres store: unread mentions of %q: %w", user, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			room string
			at   int64
		)
		if err := rows.Scan(&room, &at); err != nil {
			return nil, fmt.Errorf("postgres store: unread mentions of %q: %w", user, err)
		}
		unread[room] = append(unread[room], span.Seq(at))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: unread mentions of %q: %w", user, err)
	}
	return unread, nil
}

// withExtra scans a message row followed by the columns extra.
type withExtra struct {
	row   pgx.Row
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// MessageMentions implements store.Store.
func (s *Store) MessageMentions(ctx context.Context, room string, seq uint64) (map[string]uint64, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_name, at FROM mentions WHERE room = $1 AND seq = $2`, room, int64(seq))
	if err != nil {
		return nil, fmt.Errorf("postgres store: mentions of %s/%d: %w", room, seq, err)
	}
	out := make(map[string]uint64)
	var (
		user string
		at   int64
	)
	_, err = pgx.ForEachRow(rows, []any{&user, &at}, func() error {
		out[user] = uint64(at)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres store: mentions of %s/%d: %w", room, seq, err)
	}
	return out, nil
}
