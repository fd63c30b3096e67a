package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

var _ store.Sequencer = (*Store)(nil)

// AppendNumbered implements store.Sequencer. The room's counter row is
// moved forward by the batch's count with one upsert, which locks the row
// until COMMIT: a second process appending to the same room waits there,
// and then continues from the first one's numbers. As numbers are taken
// under that lock, a room's numbers commit in their order, and a rolled
// back batch gives its numbers back with the row.
func (s *Store) AppendNumbered(ctx context.Context, msgs []store.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := s.appendNumbered(ctx, msgs); err != nil {
		return fmt.Errorf("postgres store: append: %w", err)
	}
	return nil
}

func (s *Store) appendNumbered(ctx context.Context, msgs []store.Message) error {
	counts := make(map[string]int64, 4)
	for _, m := range msgs {
		counts[m.Room]++
	}
	// Counter rows are locked in the order of their rooms, as in Append,
	// so that two batches sharing rooms cannot deadlock.
	names := make([]string, 0, len(counts))
	for r := range counts {
		names = append(names, r)
	}
	slices.SortFunc(names, strings.Compare)
	ns := make([]int64, len(names))
	for i, r := range names {
		ns[i] = counts[r]
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `INSERT INTO room_seqs (room, last_seq)
		SELECT * FROM unnest($1::text[], $2::bigint[]) ORDER BY 1
		ON CONFLICT (room) DO UPDATE SET last_seq = room_seqs.last_seq + excluded.last_seq
		RETURNING room, last_seq`, names, ns)
	if err != nil {
		return err
	}
	next := make(map[string]int64, len(names))
	for rows.Next() {
		var (
			r    string
			last int64
		)
		if err := rows.Scan(&r, &last); err != nil {
			rows.Close()
			return err
		}
		next[r] = last - counts[r] + 1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var (
		room   = make([]string, len(msgs))
		seq    = make([]int64, len(msgs))
		sender = make([]string, len(msgs))
		text   = make([][]byte, len(msgs))
		cmid   = make([][]byte, len(msgs))
		tm     = make([]time.Time, len(msgs))
	)
	for i, m := range msgs {
		n, ok := next[m.Room]
		if !ok {
			return fmt.Errorf("room %q: no sequence number returned", m.Room)
		}
		next[m.Room] = n + 1
		room[i], seq[i], sender[i], text[i], cmid[i], tm[i] = m.Room, n, m.From, []byte(m.Text), []byte(m.ClientMsgID), m.Time
	}
	if _, err := tx.Exec(ctx, `INSERT INTO messages (room, seq, sender, text, client_msg_id, time)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::bytea[], $6::timestamptz[])`,
		room, seq, sender, text, cmid, tm); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	for i := range msgs {
		msgs[i].Seq = span.Seq(seq[i])
	}
	return nil
}

// LastSeqs implements store.Sequencer.
func (s *Store) LastSeqs(ctx context.Context, rooms []string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(rooms))
	if len(rooms) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT room, last_seq FROM room_seqs WHERE room = ANY($1::text[])`, rooms)
	if err != nil {
		return nil, fmt.Errorf("postgres store: last seqs: %w", err)
	}
	type row struct {
		Room string
		Last int64
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return nil, fmt.Errorf("postgres store: last seqs: %w", err)
	}
	for _, r := range got {
		out[r.Room] = span.Seq(r.Last)
	}
	return out, nil
}
