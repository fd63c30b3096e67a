package server

import (
	"context"

	"github.com/chatd/chatd/store"
)

// around returns up to limit messages of room around seq, in seq order:
// seq itself and about as many before it as after it, more on one side
// where the other ends, for a client that opens a message (a search hit)
// in its context.
func around(ctx context.Context, st store.Store, room string, seq uint64, limit int) ([]store.Message, error) {
	half := max(1, (limit+1)/2)
	before, err := st.Before(ctx, room, seq+1, half)
	if err != nil {
		return nil, err
	}
	after, err := st.After(ctx, room, seq, limit-len(before))
	if err != nil {
		return nil, err
	}
	if n := len(before) + len(after); n < limit && len(before) == half {
		older, err := st.Before(ctx, room, before[0].Seq, limit-n)
		if err != nil {
			return nil, err
		}
		before = append(older, before...)
	}
	return append(before, after...), nil
}
