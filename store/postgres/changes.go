package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/store"
)

// The statements that apply a change to the message it targets, in the
// transaction that stores the change. Only chat messages (kind ”) are
// targets: a change never changes another change.
const (
	applyEdit = `UPDATE messages SET text = $3, edited = $4
		WHERE room = $1 AND seq = $2 AND kind = '' AND NOT deleted`
	applyDelete = `UPDATE messages SET text = ''::bytea, deleted = true
		WHERE room = $1 AND (seq = $2 AND kind = '' OR target = $2 AND target <> 0 AND kind = 'edit')`
)

// queueChanges queues the changes among msgs, in their order, which is
// each room's sequence order: an edit after a delete changes nothing.
func queueChanges(b *pgx.Batch, msgs []store.Message) {
	for _, m := range msgs {
		queueChange(b, m)
	}
}

// queueChange queues the statement that applies m to its target, if m is
// a change.
func queueChange(b *pgx.Batch, m store.Message) {
	switch m.Change {
	case store.ChangeEdit:
		b.Queue(applyEdit, m.Room, int64(m.Target), []byte(m.Text), m.Time)
	case store.ChangeDelete:
		b.Queue(applyDelete, m.Room, int64(m.Target))
	}
}
