package sqlite

import (
	"context"
	"fmt"
	"math"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

// countReply counts a thread reply (seq ?3 at ?4) on its root ?2, a chat
// message of the room that is not in a thread itself. Replies are stored
// in seq order, but max keeps the newest should that ever change.
const countReply = `UPDATE messages SET replies = replies + 1,
	last_reply_us = CASE WHEN last_reply_seq < ?3 THEN ?4 ELSE last_reply_us END,
	last_reply_seq = max(last_reply_seq, ?3)
	WHERE room = ?1 AND seq = ?2 AND kind = '' AND thread = 0`

// ThreadAfter implements store.Store. The queries say thread <> 0 so that
// SQLite may use the partial index messages_thread.
func (s *Store) ThreadAfter(ctx context.Context, room string, root, after uint64, limit int) ([]store.Message, error) {
	lo, ok := span.After(after)
	if !ok || limit <= 0 || root == 0 || root > math.MaxInt64 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectMessage+`WHERE room = ? AND thread = ? AND thread <> 0 AND seq >= ? AND kind = '' ORDER BY seq LIMIT ?`,
		room, int64(root), lo, limit)
	if err == nil {
		err = s.withReactions(ctx, msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: thread %d of %q after %d: %w", root, room, after, err)
	}
	return msgs, nil
}

// ThreadBefore implements store.Store.
func (s *Store) ThreadBefore(ctx context.Context, room string, root, before uint64, limit int) ([]store.Message, error) {
	hi, ok := span.Before(before)
	if !ok || limit <= 0 || root == 0 || root > math.MaxInt64 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectMessage+`WHERE room = ? AND thread = ? AND thread <> 0 AND seq <= ? AND kind = '' ORDER BY seq DESC LIMIT ?`,
		room, int64(root), hi, limit)
	if err == nil {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
		err = s.withReactions(ctx, msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: thread %d of %q before %d: %w", root, room, before, err)
	}
	return msgs, nil
}
