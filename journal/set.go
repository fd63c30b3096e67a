package journal

import (
	"context"
	"fmt"
)

// Set is a fixed number of journals over one store, each with its own
// committer goroutine. Every message of a room goes to the same journal,
// chosen by the room's name, so a room's messages are stored and reported
// in one journal's order (see Journal), while a commit that is slow holds up
// only the rooms of its own journal. Its methods are safe for concurrent
// use.
//
// With one journal a Set behaves exactly like that Journal.
type Set struct {
	journals []*Journal
}

// NewSet starts n journals configured by cfg, which they share (OnCommit
// included); n of zero or less means one.
func NewSet(n int, cfg Config) *Set {
	s := &Set{journals: make([]*Journal, max(n, 1))}
	for i := range s.journals {
		s.journals[i] = New(cfg)
	}
	return s
}

// Shard returns the index, from 0 to the number of journals minus one, of
// the journal that room's messages go to. It depends only on room and the
// number of journals.
func (s *Set) Shard(room string) int {
	if len(s.journals) == 1 {
		return 0
	}
	// FNV-1a rather than a seeded maphash: placement only has to be stable
	// for as long as a room's messages may be queued, but a fixed function
	// also makes it reproducible from one run to the next.
	h := uint32(2166136261)
	for i := 0; i < len(room); i++ {
		h ^= uint32(room[i])
		h *= 16777619
	}
	return int(h % uint32(len(s.journals)))
}

// For returns the journal of room.
func (s *Set) For(room string) *Journal {
	return s.journals[s.Shard(room)]
}

// Backlog returns the number of messages waiting in room's journal: what a
// new message of room would queue behind. The other journals' queues do not
// delay it, so a caller holding back a room's publishers should look at
// this, not at a total.
func (s *Set) Backlog(room string) int {
	return s.For(room).Backlog()
}

// WaitBelow waits until fewer than n messages wait in room's journal, or
// ctx ends (see Journal.WaitBelow).
func (s *Set) WaitBelow(ctx context.Context, room string, n int) error {
	return s.For(room).WaitBelow(ctx, n)
}

// Close closes every journal: each refuses new messages at once (Submit
// returns ErrClosed), and Close waits until all of them have appended what
// was queued and run its callbacks. If ctx ends first it returns an error
// wrapping ctx's, and the journals still busy finish on their own.
func (s *Set) Close(ctx context.Context) error {
	// Refuse everywhere before waiting anywhere, so that a journal stuck in
	// a slow commit does not leave the others accepting messages.
	for _, j := range s.journals {
		j.refuse()
	}
	busy := 0
	var err error
	for _, j := range s.journals {
		if werr := j.wait(ctx); werr != nil {
			busy++
			err = werr
		}
	}
	if busy > 0 {
		return fmt.Errorf("%d of %d journals still storing: %w", busy, len(s.journals), err)
	}
	return nil
}
