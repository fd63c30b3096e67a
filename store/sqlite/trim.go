package sqlite

import "context"

// trimChanges removes, once retention has removed room's messages up to
// upTo, what still names them: the changes (edits, deletes, reactions)
// stored after upTo whose target is gone, and the reactions table's rows.
// A change left behind would replay as a change of a message the room no
// longer holds. It returns how many change messages it deleted.
func (s *Store) trimChanges(ctx context.Context, room string, upTo int64) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM messages WHERE room = ? AND target <> 0 AND target <= ? AND kind <> ''`, room, upTo)
	if err != nil {
		return 0, describe(err)
	}
	n, _ := res.RowsAffected()
	if _, err := s.w.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND target <= ?`, room, upTo); err != nil {
		return n, describe(err)
	}
	return n, nil
}
