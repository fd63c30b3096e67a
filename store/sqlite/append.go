package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

// insertChunk is how many messages one INSERT statement carries. A batch
// goes in as statements of insertChunk rows and the rest one row at a
// time: with a statement per row, a batch of 1,000 messages over 100 rooms
// cost 19-23 µs of CPU per message, with 64 rows 13-16 (BenchmarkAppend,
// docs/benchmarks.md); 64 rows of 11 values stay far below SQLite's limit
// on bound variables.
const insertChunk = 64

// messageColumns begins the INSERT of messages. OR ROLLBACK: a statement
// of many rows that may fail halfway would otherwise need a statement
// journal, to undo only its own rows, and SQLite spills that to a
// temporary file once it grows past 64 KiB, which cost more system time
// and a fifth more bytes written; a failed Append rolls back its whole
// transaction anyway.
const messageColumns = `INSERT OR ROLLBACK INTO messages (room, seq, sender, text, client_msg_id, time_us, kind, target, reply_to, thread, also_room) VALUES `

// roomSeqUpsert moves a room's counter to the last Seq of the batch (?2),
// but only if it is below the first (?3); otherwise it changes no row,
// which is how Append sees a conflict without reading the counter first.
const roomSeqUpsert = `INSERT INTO room_seqs (room, last_seq) VALUES (?1, ?2)
	ON CONFLICT (room) DO UPDATE SET last_seq = excluded.last_seq WHERE room_seqs.last_seq < ?3`

// appendStmts are Append's statements, prepared once on the writer's one
// connection and used in each of its transactions.
type appendStmts struct {
	chunk, one, room *sql.Stmt
	// changes holds the statements of applyChanges by their text: a storm
	// of reactions runs them tens of times per append, and parsing each
	// (with the triggers it fires) was a quarter of the append's CPU.
	changes map[string]*sql.Stmt
}

func (s *Store) prepareAppend(ctx context.Context) error {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = s.w.PrepareContext(ctx, q)
		if err != nil {
			err = fmt.Errorf("preparing %.40q: %w", q, describe(err))
		}
		return st
	}
	s.ins.chunk = prep(insertRows(insertChunk))
	s.ins.one = prep(insertRows(1))
	s.ins.room = prep(roomSeqUpsert)
	s.ins.changes = make(map[string]*sql.Stmt)
	for _, q := range changeStatements {
		s.ins.changes[q] = prep(q)
	}
	return err
}

func (a *appendStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{a.chunk, a.one, a.room} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, st := range a.changes {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// insertRows is an INSERT of n messages.
func insertRows(n int) string {
	var b strings.Builder
	b.WriteString(messageColumns)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, msgs []store.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rooms, err := span.Rooms(msgs)
	if err != nil {
		return fmt.Errorf("sqlite store: append: %w", err)
	}
	if err := s.append(ctx, msgs, rooms); err != nil {
		return fmt.Errorf("sqlite store: append: %w", err)
	}
	return nil
}

func (s *Store) append(ctx context.Context, msgs []store.Message, rooms []span.Room) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return describe(err)
	}
	defer tx.Rollback()
	// The counters first: a conflict is found before any message is
	// written, and each room costs one statement, not a read and a write.
	room := tx.StmtContext(ctx, s.ins.room)
	for _, r := range rooms {
		res, err := room.ExecContext(ctx, r.Room, int64(r.Last), int64(r.First))
		if err != nil {
			return describe(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return describe(err)
		} else if n == 0 {
			return s.conflict(ctx, tx, r)
		}
	}
	// The changes apply in the batch's order, which is each room's order;
	// tallies are written to the caller's messages.
	tally := msgs
	changes := changesOf(msgs)
	msgs = slices.Clone(msgs)
	slices.SortStableFunc(msgs, func(a, b store.Message) int { return strings.Compare(a.Room, b.Room) })
	args := make([]any, 0, 11*insertChunk)
	chunk := tx.StmtContext(ctx, s.ins.chunk)
	for len(msgs) >= insertChunk {
		args = args[:0]
		for _, m := range msgs[:insertChunk] {
			args = appendArgs(args, m)
		}
		if _, err := chunk.ExecContext(ctx, args...); err != nil {
			return describe(err)
		}
		msgs = msgs[insertChunk:]
	}
	one := tx.StmtContext(ctx, s.ins.one)
	for _, m := range msgs {
		if _, err := one.ExecContext(ctx, appendArgs(args[:0], m)...); err != nil {
			return describe(err)
		}
	}
	inTx := make(map[string]*sql.Stmt)
	stmt := func(q string) *sql.Stmt {
		st := inTx[q]
		if st == nil {
			st = tx.StmtContext(ctx, s.ins.changes[q])
			inTx[q] = st
		}
		return st
	}
	if err := applyChanges(ctx, stmt, tally, changes); err != nil {
		return err
	}
	return describe(tx.Commit())
}

func appendArgs(args []any, m store.Message) []any {
	return append(args, m.Room, int64(m.Seq), m.From, m.Text, m.ClientMsgID, m.Time.UnixMicro(), string(m.Change), int64(m.Target),
		int64(m.ReplyTo), int64(m.Thread), m.AlsoRoom)
}

// conflict is the error for room r, whose counter is not below r.First.
func (s *Store) conflict(ctx context.Context, tx *sql.Tx, r span.Room) error {
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last_seq FROM room_seqs WHERE room = ?`, r.Room).Scan(&last); err != nil {
		return describe(err)
	}
	return span.Conflict(r.Room, r.First, span.Seq(last))
}
