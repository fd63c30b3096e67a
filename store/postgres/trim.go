package postgres

import "context"

// trimChanges removes, once retention has removed room's messages up to
// upTo, what still names them: the changes (edits, deletes, reactions)
// stored after upTo whose target is gone, and the reactions table's rows.
// A change left behind would replay as a change of a message the room no
// longer holds. It returns how many change messages it deleted.
func (s *Store) trimChanges(ctx context.Context, room string, upTo int64) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM messages WHERE room = $1 AND target <> 0 AND target <= $2 AND kind <> ''`, room, upTo)
	if err != nil {
		return 0, err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM reactions WHERE room = $1 AND target <= $2`, room, upTo); err != nil {
		return tag.RowsAffected(), err
	}
	return tag.RowsAffected(), nil
}
