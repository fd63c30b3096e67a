// Package span owns the checks and bounds that every store adapter applies
// in the same way: it splits an Append batch by room and checks its
// sequence numbers, and turns the After/Before arguments of store.Store
// into the signed ranges SQL can hold.
package span

import (
	"fmt"
	"math"

	"github.com/chatd/chatd/store"
)

// Room is the part of an Append batch that goes to one room.
type Room struct {
	Room  string
	First uint64 // the lowest Seq of the room in the batch
	Last  uint64 // the highest
}

// Rooms returns the rooms of msgs in the order they first appear, with the
// first and last Seq of each. It returns an error wrapping
// store.ErrSeqConflict if, within a room, Seq is 0, above math.MaxInt64 or
// not increasing. Whether First is above the room's LastSeq is for the
// adapter to check, inside its transaction.
func Rooms(msgs []store.Message) ([]Room, error) {
	var rooms []Room
	index := make(map[string]int, 4)
	for _, m := range msgs {
		if m.Seq == 0 || m.Seq > math.MaxInt64 {
			return nil, fmt.Errorf("room %q: seq %d is out of range [1, %d]: %w", m.Room, m.Seq, int64(math.MaxInt64), store.ErrSeqConflict)
		}
		i, ok := index[m.Room]
		if !ok {
			index[m.Room] = len(rooms)
			rooms = append(rooms, Room{Room: m.Room, First: m.Seq, Last: m.Seq})
			continue
		}
		r := &rooms[i]
		if m.Seq <= r.Last {
			return nil, fmt.Errorf("room %q: seq %d follows %d in the batch: %w", m.Room, m.Seq, r.Last, store.ErrSeqConflict)
		}
		r.Last = m.Seq
	}
	return rooms, nil
}

// Conflict is the error for a room whose batch starts at first while the
// store already holds last.
func Conflict(room string, first, last uint64) error {
	return fmt.Errorf("room %q: seq %d is not above the last stored seq %d: %w", room, first, last, store.ErrSeqConflict)
}

// After turns the bound of store.Store.After into the lowest Seq to return.
// ok is false when no Seq can be above after.
func After(after uint64) (lo int64, ok bool) {
	if after >= math.MaxInt64 {
		return 0, false
	}
	return int64(after) + 1, true
}

// Before turns the bound of store.Store.Before into the highest Seq to
// return. ok is false when no Seq can be below before.
func Before(before uint64) (hi int64, ok bool) {
	switch {
	case before == 0 || before > math.MaxInt64:
		return math.MaxInt64, true
	case before == 1:
		return 0, false
	default:
		return int64(before) - 1, true
	}
}

// Seq converts a Seq read from the database. The schema keeps Seq positive,
// so a negative value means a damaged database; it is reported as 0.
func Seq(v int64) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}
