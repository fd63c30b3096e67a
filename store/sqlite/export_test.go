package sqlite

import (
	"context"
	"time"

	"github.com/chatd/chatd/store"
)

// SetBusyTimeout sets how long new connections wait for another process's
// lock, and returns a function that restores the previous value.
func SetBusyTimeout(d time.Duration) (restore func()) {
	old := busyTimeout
	busyTimeout = d
	return func() { busyTimeout = old }
}

// WriterPragma reads PRAGMA name on the connection every write goes
// through: the settings that durability and commit cost depend on are that
// connection's own.
func (s *Store) WriterPragma(name string) (int64, error) {
	var v int64
	err := s.w.QueryRow("PRAGMA " + name).Scan(&v)
	return v, err
}

// SearchPlan is the EXPLAIN QUERY PLAN of the statement Search runs for
// q: one line (the detail) a step.
func (s *Store) SearchPlan(ctx context.Context, q store.SearchQuery) ([]string, error) {
	st, err := s.searchStatement(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+st.query, st.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

// ExecWriter runs q on the writer connection, outside any Append.
func (s *Store) ExecWriter(q string, args ...any) error {
	_, err := s.w.Exec(q, args...)
	return err
}

// SearchDocID is the id search gives message seq of room.
func (s *Store) SearchDocID(room string, seq uint64) (int64, error) {
	var id int64
	err := s.w.QueryRow(`SELECT id FROM search_docs WHERE room = ? AND seq = ?`, room, int64(seq)).Scan(&id)
	return id, err
}
