package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/store"
)

// The statements that apply a change to the message it targets, in the
// transaction that stores the change. Only chat messages (kind ”) are
// targets: a change never changes another change.
const (
	applyEdit = `UPDATE messages SET text = $3, edited = $4, words = to_tsvector('simple', $5)
		WHERE room = $1 AND seq = $2 AND kind = '' AND NOT deleted`
	applyDelete = `UPDATE messages SET text = ''::bytea, deleted = true, words = NULL
		WHERE room = $1 AND (seq = $2 AND kind = '' OR target = $2 AND target <> 0 AND kind = 'edit')`
	// A reaction counts only on a chat message that is not deleted.
	applyReact = `INSERT INTO reactions (room, target, emoji, sender, seq)
		SELECT $1, $2, $3, $4, $5 WHERE EXISTS
		(SELECT 1 FROM messages WHERE room = $1 AND seq = $2 AND kind = '' AND NOT deleted)
		ON CONFLICT DO NOTHING`
	applyUnreact    = `DELETE FROM reactions WHERE room = $1 AND target = $2 AND emoji = $3 AND sender = $4`
	deleteReactions = `DELETE FROM reactions WHERE room = $1 AND target = $2`
	// A mention counts only in a chat message that is not deleted.
	applyMention = `INSERT INTO mentions (user_name, room, seq, at)
		SELECT $1, $2, $3, $4 WHERE EXISTS
		(SELECT 1 FROM messages WHERE room = $2 AND seq = $3 AND kind = '' AND NOT deleted)
		ON CONFLICT DO NOTHING`
	deleteMentions = `DELETE FROM mentions WHERE room = $1 AND seq = $2`
)

// queueChanges queues the changes among msgs, in their order, which is
// each room's sequence order: an edit after a delete changes nothing.
// After a reaction that ends a run it queues the read of the target's
// reactions into it (store.Message.Tally).
func queueChanges(b *pgx.Batch, msgs []store.Message) {
	ends := store.ReactionRunEnds(msgs)
	for i, m := range msgs {
		queueChange(b, m)
		if ends != nil && ends[i] {
			queueTally(b, &msgs[i])
		}
	}
}

// queueTally queues the read of m's target's reactions into m.
func queueTally(b *pgx.Batch, m *store.Message) {
	b.Queue(`SELECT emoji, sender FROM reactions WHERE room = $1 AND target = $2 ORDER BY seq`,
		m.Room, int64(m.Target)).Query(func(rows pgx.Rows) error {
		var rs []store.Reaction
		var emoji, user string
		_, err := pgx.ForEachRow(rows, []any{&emoji, &user}, func() error {
			rs = store.AddReaction(rs, emoji, user)
			return nil
		})
		if err != nil {
			return err
		}
		m.Reactions, m.Tally = rs, true
		return nil
	})
}

// queueChange queues the statements that record m's mentions and apply
// m to its target, if m is a change, or count m on its thread's root, if
// m is a thread reply.
func queueChange(b *pgx.Batch, m store.Message) {
	for _, user := range m.Mentions {
		b.Queue(applyMention, user, m.Room, int64(store.MentionTarget(&m)), int64(m.Seq))
	}
	switch m.Change {
	case store.ChangeEdit:
		b.Queue(applyEdit, m.Room, int64(m.Target), []byte(m.Text), m.Time, searchText(m.Text))
	case store.ChangeDelete:
		b.Queue(applyDelete, m.Room, int64(m.Target))
		b.Queue(deleteReactions, m.Room, int64(m.Target))
		b.Queue(deleteMentions, m.Room, int64(m.Target))
	case store.ChangeReact:
		b.Queue(applyReact, m.Room, int64(m.Target), m.Text, m.From, int64(m.Seq))
	case store.ChangeUnreact:
		b.Queue(applyUnreact, m.Room, int64(m.Target), m.Text, m.From)
	case store.ChangeNone:
		if m.Thread != 0 {
			b.Queue(countReply, m.Room, int64(m.Thread), int64(m.Seq), m.Time)
		}
	}
}

// withReactions sets the reactions of the chat messages among msgs, which
// are in seq order, with one query over their span.
func (s *Store) withReactions(ctx context.Context, msgs []store.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, `SELECT target, emoji, sender FROM reactions
		WHERE room = $1 AND target BETWEEN $2 AND $3 ORDER BY target, seq`,
		msgs[0].Room, int64(msgs[0].Seq), int64(msgs[len(msgs)-1].Seq))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			target      int64
			emoji, user string
		)
		if err := rows.Scan(&target, &emoji, &user); err != nil {
			return err
		}
		store.AttachReaction(msgs, uint64(target), emoji, user)
	}
	return rows.Err()
}
