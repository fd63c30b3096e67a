package sqlite

import (
	"context"
	"database/sql"

	"github.com/chatd/chatd/store"
)

// The statements that apply a change to the message it targets, in the
// transaction that stores the change. Only chat messages (kind ”) are
// targets: a change never changes another change.
const (
	applyEdit = `UPDATE messages SET text = ?3, edited_us = ?4
		WHERE room = ?1 AND seq = ?2 AND kind = '' AND deleted = 0`
	applyDelete = `UPDATE messages SET text = '', deleted = 1
		WHERE room = ?1 AND (seq = ?2 AND kind = '' OR target = ?2 AND target <> 0 AND kind = 'edit')`
)

// changesOf returns the changes among msgs, in their order, which is each
// room's sequence order.
func changesOf(msgs []store.Message) []store.Message {
	var changes []store.Message
	for _, m := range msgs {
		if m.Change != store.ChangeNone {
			changes = append(changes, m)
		}
	}
	return changes
}

// applyChanges applies changes to their targets, one statement each:
// changes are rare next to messages, and their order matters (an edit
// after a delete changes nothing).
func applyChanges(ctx context.Context, tx *sql.Tx, changes []store.Message) error {
	for _, m := range changes {
		var err error
		switch m.Change {
		case store.ChangeEdit:
			_, err = tx.ExecContext(ctx, applyEdit, m.Room, int64(m.Target), m.Text, m.Time.UnixMicro())
		case store.ChangeDelete:
			_, err = tx.ExecContext(ctx, applyDelete, m.Room, int64(m.Target))
		}
		if err != nil {
			return describe(err)
		}
	}
	return nil
}
