package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// selectAfter reads room ?1's messages from seq ?2 on, at most ?3.
const selectAfter = selectMessage + `WHERE room = ? AND seq >= ? ORDER BY seq LIMIT ?`

// selectReactionsBy reads the emoji user ?3 gives to room ?1's message ?2.
const selectReactionsBy = `SELECT emoji FROM reactions INDEXED BY reactions_by_sender
	WHERE room = ? AND target = ? AND sender = ? ORDER BY seq`

// preparedReads are the reads that a reaction's check makes, once per
// reaction during a storm of them: parsing them was half of their CPU.
var preparedReads = []string{selectAfter, selectReactions, selectReactionsBy}

// prepareReads prepares preparedReads on the readers' pool, which
// prepares each on a connection the first time it runs there.
func (s *Store) prepareReads(ctx context.Context) error {
	s.reads = make(map[string]*sql.Stmt)
	for _, q := range preparedReads {
		st, err := s.r.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("preparing %.40q: %w", q, describe(err))
		}
		s.reads[q] = st
	}
	return nil
}

// read runs q on the readers' pool, prepared if it is one of
// preparedReads.
func (s *Store) read(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.reads[q]; st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, q, args...)
}

func (s *Store) closeReads() error {
	var errs []error
	for _, st := range s.reads {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
