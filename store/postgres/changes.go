package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/store"
)

// The statements that apply a change to the message it targets, in the
// transaction that stores the change. Only chat messages (kind ”) are
// targets: a change never changes another change.
const (
	applyEdit = `UPDATE messages SET text = $3, edited = $4, words = to_tsvector('chatd_words', $5)
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
	deleteMention  = `DELETE FROM mentions WHERE room = $1 AND seq = $2 AND user_name = $3`
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

// selectReactions reads the reactions of room $1's messages $2 to $3:
// each emoji's count and its first $4 users (store.ReactionUsersListed),
// in the order given, from reaction_counts and reactions_by_seq
// (migration 12), so that it reads at most that many rows per emoji
// however many users gave it.
const selectReactions = `SELECT c.target, c.emoji, c.count, u.sender FROM reaction_counts c
	CROSS JOIN LATERAL (SELECT r.sender, r.seq FROM reactions r
		WHERE r.room = c.room AND r.target = c.target AND r.emoji = c.emoji
		ORDER BY r.seq LIMIT $4) u
	WHERE c.room = $1 AND c.target BETWEEN $2 AND $3
	ORDER BY c.target, u.seq`

// attachReactions reads rows of selectReactions into msgs.
func attachReactions(rows pgx.Rows, msgs []store.Message) error {
	var (
		target      int64
		count       int32
		emoji, user string
	)
	_, err := pgx.ForEachRow(rows, []any{&target, &emoji, &count, &user}, func() error {
		store.AttachReaction(msgs, uint64(target), emoji, int(count), user)
		return nil
	})
	return err
}

// queueTally queues the read of m's target's reactions into m.
func queueTally(b *pgx.Batch, m *store.Message) {
	b.Queue(selectReactions, m.Room, int64(m.Target), int64(m.Target), store.ReactionUsersListed).Query(func(rows pgx.Rows) error {
		one := []store.Message{{Room: m.Room, Seq: m.Target}}
		if err := attachReactions(rows, one); err != nil {
			return err
		}
		m.Reactions, m.Tally = one[0].Reactions, true
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
	for _, user := range m.Unmentions {
		b.Queue(deleteMention, m.Room, int64(m.Target), user)
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
	rows, err := s.pool.Query(ctx, selectReactions, msgs[0].Room, int64(msgs[0].Seq), int64(msgs[len(msgs)-1].Seq),
		store.ReactionUsersListed)
	if err != nil {
		return err
	}
	return attachReactions(rows, msgs)
}

// ReactionsBy implements store.Store.
func (s *Store) ReactionsBy(ctx context.Context, room string, target uint64, user string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT emoji FROM reactions WHERE room = $1 AND target = $2 AND sender = $3 ORDER BY seq`,
		room, int64(target), user)
	if err != nil {
		return nil, fmt.Errorf("postgres store: reactions of %s to %q/%d: %w", user, room, target, err)
	}
	emoji, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres store: reactions of %s to %q/%d: %w", user, room, target, err)
	}
	return emoji, nil
}
