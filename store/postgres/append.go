package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

// moveCounters creates or moves each room's counter to the last Seq of
// the batch ($3), in the order of the rooms' names, so that two Appends
// that share rooms lock their rows in one order and cannot deadlock. A
// counter that is not below the batch's first Seq of its room ($2) is set
// to -1 instead, which its CHECK refuses: that error aborts the
// transaction on the server, before any message is inserted, so the whole
// Append can be sent at once instead of reading the counters first.
const moveCounters = `WITH v (room, first, last) AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]))
	INSERT INTO room_seqs (room, last_seq) SELECT room, last FROM v ORDER BY room
	ON CONFLICT (room) DO UPDATE SET last_seq = CASE
		WHEN room_seqs.last_seq < (SELECT first FROM v WHERE v.room = excluded.room) THEN excluded.last_seq
		ELSE -1 END`

// counterRefused is the constraint whose violation is moveCounters'
// conflict.
const counterRefused = "room_seqs_last_seq_check"

const insertMessages = `INSERT INTO messages (room, seq, sender, text, client_msg_id, time, kind, target, words, reply_to, thread, also_room)
	SELECT r, s, f, t, c, tm, k, tg, CASE WHEN k = '' THEN to_tsvector('chatd_words', w) END, rt, th, ar
	FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::bytea[], $6::timestamptz[], $7::text[], $8::bigint[], $9::text[],
		$10::bigint[], $11::bigint[], $12::boolean[])
		AS v (r, s, f, t, c, tm, k, tg, w, rt, th, ar)`

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, msgs []store.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rooms, err := span.Rooms(msgs)
	if err != nil {
		return fmt.Errorf("postgres store: append: %w", err)
	}
	if err := s.append(ctx, msgs, rooms); err != nil {
		return fmt.Errorf("postgres store: append: %w", err)
	}
	return nil
}

// append sends the whole transaction, BEGIN to COMMIT, as one pipelined
// batch: one round trip to the server instead of three, which is most of
// an Append's latency when PostgreSQL is busy.
func (s *Store) append(ctx context.Context, msgs []store.Message, rooms []span.Room) error {
	names := make([]string, len(rooms))
	firsts := make([]int64, len(rooms))
	lasts := make([]int64, len(rooms))
	for i, r := range rooms {
		names[i], firsts[i], lasts[i] = r.Room, int64(r.First), int64(r.Last)
	}
	var (
		room   = make([]string, len(msgs))
		seq    = make([]int64, len(msgs))
		sender = make([]string, len(msgs))
		text   = make([][]byte, len(msgs))
		cmid   = make([][]byte, len(msgs))
		tm     = make([]time.Time, len(msgs))
		kind   = make([]string, len(msgs))
		target = make([]int64, len(msgs))
		words  = make([]string, len(msgs))
		refs   = newReplyRefs(len(msgs))
	)
	for i, m := range msgs {
		room[i], seq[i], sender[i], text[i], cmid[i], tm[i] = m.Room, int64(m.Seq), m.From, []byte(m.Text), []byte(m.ClientMsgID), m.Time
		kind[i], target[i], words[i] = string(m.Change), int64(m.Target), wordsText(m)
		refs.add(m)
	}

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// After an error in the middle of the batch its COMMIT was skipped and
	// the connection is left in the aborted transaction: Release closes
	// such a connection rather than hand it to the next caller, which
	// costs a new connection only on a failed Append, and cannot block
	// the committer on a ROLLBACK to a server that no longer answers.
	var b pgx.Batch
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = on`)
	b.Queue(moveCounters, names, firsts, lasts)
	b.Queue(insertMessages, room, seq, sender, text, cmid, tm, kind, target, words, refs.replyTo, refs.thread, refs.alsoRoom)
	queueChanges(&b, msgs)
	b.Queue(`COMMIT`).Exec(commitTag)
	err = conn.SendBatch(ctx, &b).Close()
	conn.Release() // before conflict takes a connection of its own
	if err == nil {
		return nil
	}
	var e *pgconn.PgError
	if errors.As(err, &e) && e.ConstraintName == counterRefused {
		return s.conflict(ctx, rooms)
	}
	return err
}

// conflict is the error for a batch whose counters moveCounters refused:
// it names a room whose counter is not below the batch's first Seq there,
// as the counters are now.
func (s *Store) conflict(ctx context.Context, rooms []span.Room) error {
	names := make([]string, len(rooms))
	for i, r := range rooms {
		names[i] = r.Room
	}
	lasts, err := s.LastSeqs(ctx, names)
	if err != nil {
		return fmt.Errorf("%w (reading the counters: %w)", store.ErrSeqConflict, err)
	}
	slices.SortFunc(rooms, func(a, b span.Room) int { return strings.Compare(a.Room, b.Room) })
	for _, r := range rooms {
		if last := lasts[r.Room]; r.First <= last {
			return span.Conflict(r.Room, r.First, last)
		}
	}
	return fmt.Errorf("a room's counter was not below the batch's first seq there: %w", store.ErrSeqConflict)
}
