package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// BenchReactionStorm measures what a storm of reactions to one message
// costs the store: the read of the message with its reactions that
// checks each reaction (After of the one message), and the append of a
// batch of 40 reactions ending in one run, tallied, each against a
// message that 1,000 users have reacted to.
func BenchReactionStorm(b *testing.B, open func(b *testing.B) store.Store) {
	const users, batch = 1000, 40
	ctx := context.Background()
	now := time.Now()
	st := open(b)
	defer st.Close()
	seq := uint64(1)
	if err := st.Append(ctx, []store.Message{{Room: "r", Seq: seq, From: "alice", Text: "react to me", Time: now}}); err != nil {
		b.Fatal(err)
	}
	react := func(c store.Change, user int) store.Message {
		seq++
		return store.Message{Room: "r", Seq: seq, From: fmt.Sprintf("u%04d", user), Text: "👍", Change: c, Target: 1, Time: now}
	}
	var fill []store.Message
	for u := range users {
		fill = append(fill, react(store.ChangeReact, u))
	}
	if err := st.Append(ctx, fill); err != nil {
		b.Fatal(err)
	}
	b.Run("check-read", func(b *testing.B) {
		for b.Loop() {
			if got, err := st.After(ctx, "r", 0, 1); err != nil || len(got) != 1 || len(got[0].Reactions) != 1 {
				b.Fatalf("After: %+v, %v", got, err)
			}
		}
	})
	b.Run(fmt.Sprintf("append/batch=%d", batch), func(b *testing.B) {
		n := 0
		for b.Loop() {
			// Users take 👍 back and give it again in turn, so the count
			// stays about users.
			msgs := make([]store.Message, 0, batch)
			for range batch / 2 {
				u := n % users
				n++
				msgs = append(msgs, react(store.ChangeUnreact, u), react(store.ChangeReact, u))
			}
			if err := st.Append(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			if !msgs[batch-1].Tally {
				b.Fatal("the run was not tallied")
			}
		}
	})
}
