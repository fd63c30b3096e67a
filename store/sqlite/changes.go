package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
	// A reaction counts only on a chat message that is not deleted.
	applyReact = `INSERT OR IGNORE INTO reactions (room, target, emoji, sender, seq)
		SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS
		(SELECT 1 FROM messages WHERE room = ?1 AND seq = ?2 AND kind = '' AND deleted = 0)`
	applyUnreact    = `DELETE FROM reactions WHERE room = ?1 AND target = ?2 AND emoji = ?3 AND sender = ?4`
	deleteReactions = `DELETE FROM reactions WHERE room = ?1 AND target = ?2`
	// A mention counts only in a chat message that is not deleted.
	applyMention = `INSERT OR IGNORE INTO mentions (user_name, room, seq, at)
		SELECT ?1, ?2, ?3, ?4 WHERE EXISTS
		(SELECT 1 FROM messages WHERE room = ?2 AND seq = ?3 AND kind = '' AND deleted = 0)`
	deleteMentions = `DELETE FROM mentions WHERE room = ?1 AND seq = ?2`
	deleteMention  = `DELETE FROM mentions WHERE room = ?1 AND seq = ?2 AND user_name = ?3`
)

// changeStatements are the statements of applyChanges, prepared once.
var changeStatements = []string{applyEdit, applyDelete, applyReact, applyUnreact, deleteReactions,
	applyMention, deleteMentions, deleteMention, countReply, selectReactions}

// changesOf returns the indexes of the changes among msgs, of the
// messages with mentions and of the thread replies, in their order, which
// is each room's sequence order.
func changesOf(msgs []store.Message) []int {
	var changes []int
	for i, m := range msgs {
		if m.Change != store.ChangeNone || len(m.Mentions) > 0 || m.Thread != 0 {
			changes = append(changes, i)
		}
	}
	return changes
}

// applyChanges applies the changes of msgs to their targets and records
// mentions, one statement each: both are rare next to messages, and their
// order matters (an edit after a delete changes nothing). After a
// reaction that ends a run it reads the target's reactions into it
// (store.Message.Tally).
// stmt returns the transaction's statement of one of changeStatements.
func applyChanges(ctx context.Context, stmt func(q string) *sql.Stmt, msgs []store.Message, changes []int) error {
	ends := store.ReactionRunEnds(msgs)
	for _, i := range changes {
		m := msgs[i]
		for _, user := range m.Mentions {
			if _, err := stmt(applyMention).ExecContext(ctx, user, m.Room, int64(store.MentionTarget(&m)), int64(m.Seq)); err != nil {
				return describe(err)
			}
		}
		for _, user := range m.Unmentions {
			if _, err := stmt(deleteMention).ExecContext(ctx, m.Room, int64(m.Target), user); err != nil {
				return describe(err)
			}
		}
		var err error
		switch m.Change {
		case store.ChangeEdit:
			_, err = stmt(applyEdit).ExecContext(ctx, m.Room, int64(m.Target), m.Text, m.Time.UnixMicro())
		case store.ChangeDelete:
			_, err = stmt(applyDelete).ExecContext(ctx, m.Room, int64(m.Target))
			if err == nil {
				_, err = stmt(deleteReactions).ExecContext(ctx, m.Room, int64(m.Target))
			}
			if err == nil {
				_, err = stmt(deleteMentions).ExecContext(ctx, m.Room, int64(m.Target))
			}
		case store.ChangeReact:
			_, err = stmt(applyReact).ExecContext(ctx, m.Room, int64(m.Target), m.Text, m.From, int64(m.Seq))
		case store.ChangeUnreact:
			_, err = stmt(applyUnreact).ExecContext(ctx, m.Room, int64(m.Target), m.Text, m.From)
		case store.ChangeNone:
			if m.Thread != 0 {
				_, err = stmt(countReply).ExecContext(ctx, m.Room, int64(m.Thread), int64(m.Seq), m.Time.UnixMicro())
			}
		}
		if err == nil && ends != nil && ends[i] {
			msgs[i].Reactions, err = tally(ctx, stmt(selectReactions), m.Room, m.Target)
			msgs[i].Tally = err == nil
		}
		if err != nil {
			return describe(err)
		}
	}
	return nil
}

// selectReactions reads the reactions of room's messages ?2 to ?3: each
// emoji's count and its first ?4 users (store.ReactionUsersListed), in the
// order given, from reaction_counts and reactions_by_seq (migration 9),
// so that it reads at most that many rows per emoji however many users
// gave it. The bound is the seq of the emoji's ?4th user, found in the
// index, and bounds the range each emoji's users are read from.
const selectReactions = `SELECT c.target, c.emoji, c.count, r.sender FROM reaction_counts c
	JOIN reactions r INDEXED BY reactions_by_seq
		ON r.room = c.room AND r.target = c.target AND r.emoji = c.emoji
		AND r.seq <= coalesce((SELECT seq FROM reactions INDEXED BY reactions_by_seq
			WHERE room = c.room AND target = c.target AND emoji = c.emoji
			ORDER BY seq LIMIT 1 OFFSET ?4 - 1), 9223372036854775807)
	WHERE c.room = ?1 AND c.target BETWEEN ?2 AND ?3
	ORDER BY c.target, r.seq`

// readReactions sets the reactions of the chat messages among msgs, which
// are in seq order, with one query of selectReactions over their span:
// query runs it with the arguments given.
func readReactions(ctx context.Context, query func(ctx context.Context, args ...any) (*sql.Rows, error), msgs []store.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rows, err := query(ctx, msgs[0].Room, int64(msgs[0].Seq), int64(msgs[len(msgs)-1].Seq), store.ReactionUsersListed)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			target, count int64
			emoji, user   string
		)
		if err := rows.Scan(&target, &emoji, &count, &user); err != nil {
			return err
		}
		store.AttachReaction(msgs, uint64(target), emoji, int(count), user)
	}
	return rows.Err()
}

// tally reads target's reactions with selectReactions, prepared in the
// appending transaction.
func tally(ctx context.Context, st *sql.Stmt, room string, target uint64) ([]store.Reaction, error) {
	one := []store.Message{{Room: room, Seq: target}}
	if err := readReactions(ctx, st.QueryContext, one); err != nil {
		return nil, err
	}
	return one[0].Reactions, nil
}

// withReactions sets the reactions of the chat messages among msgs, which
// are in seq order.
func (s *Store) withReactions(ctx context.Context, msgs []store.Message) error {
	query := func(ctx context.Context, args ...any) (*sql.Rows, error) {
		return s.read(ctx, selectReactions, args...)
	}
	return describe(readReactions(ctx, query, msgs))
}

// ReactionsBy implements store.Store.
func (s *Store) ReactionsBy(ctx context.Context, room string, target uint64, user string) ([]string, error) {
	rows, err := s.read(ctx, selectReactionsBy, room, int64(target), user)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: reactions of %s to %q/%d: %w", user, room, target, describe(err))
	}
	defer rows.Close()
	var emoji []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("sqlite store: reactions of %s to %q/%d: %w", user, room, target, describe(err))
		}
		emoji = append(emoji, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: reactions of %s to %q/%d: %w", user, room, target, describe(err))
	}
	return emoji, nil
}
