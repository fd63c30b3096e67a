package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

// countReply counts a thread reply ($3 at $4) on its root $2, a chat
// message of the room that is not in a thread itself.
const countReply = `UPDATE messages SET replies = replies + 1,
	last_reply = CASE WHEN last_reply_seq < $3 THEN $4 ELSE last_reply END,
	last_reply_seq = GREATEST(last_reply_seq, $3)
	WHERE room = $1 AND seq = $2 AND kind = '' AND thread = 0`

// replyRefs are the reply columns of a batch of messages, for
// insertMessages.
type replyRefs struct {
	replyTo, thread []int64
	alsoRoom        []bool
}

func newReplyRefs(n int) *replyRefs {
	return &replyRefs{replyTo: make([]int64, 0, n), thread: make([]int64, 0, n), alsoRoom: make([]bool, 0, n)}
}

func (r *replyRefs) add(m store.Message) {
	r.replyTo, r.thread, r.alsoRoom = append(r.replyTo, int64(m.ReplyTo)), append(r.thread, int64(m.Thread)), append(r.alsoRoom, m.AlsoRoom)
}

// ThreadAfter implements store.Store.
func (s *Store) ThreadAfter(ctx context.Context, room string, root, after uint64, limit int) ([]store.Message, error) {
	lo, ok := span.After(after)
	if !ok || limit <= 0 || root == 0 || root > math.MaxInt64 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectMessage+`WHERE room = $1 AND thread = $2 AND thread <> 0 AND seq >= $3 AND kind = ''
		ORDER BY seq LIMIT $4`, room, int64(root), lo, limit)
	if err == nil {
		err = s.withReactions(ctx, msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres store: thread %d of %q after %d: %w", root, room, after, err)
	}
	return msgs, nil
}

// ThreadBefore implements store.Store.
func (s *Store) ThreadBefore(ctx context.Context, room string, root, before uint64, limit int) ([]store.Message, error) {
	hi, ok := span.Before(before)
	if !ok || limit <= 0 || root == 0 || root > math.MaxInt64 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectMessage+`WHERE room = $1 AND thread = $2 AND thread <> 0 AND seq <= $3 AND kind = ''
		ORDER BY seq DESC LIMIT $4`, room, int64(root), hi, limit)
	if err == nil {
		slices.Reverse(msgs)
		err = s.withReactions(ctx, msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres store: thread %d of %q before %d: %w", root, room, before, err)
	}
	return msgs, nil
}
