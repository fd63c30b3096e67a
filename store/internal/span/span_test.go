package span_test

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

func TestRooms(t *testing.T) {
	msgs := []store.Message{{Room: "b", Seq: 4}, {Room: "a", Seq: 1}, {Room: "b", Seq: 9}, {Room: "a", Seq: 2}}
	got, err := span.Rooms(msgs)
	want := []span.Room{{Room: "b", First: 4, Last: 9}, {Room: "a", First: 1, Last: 2}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Rooms = %v, %v; want %v", got, err, want)
	}
	for _, bad := range [][]store.Message{
		{{Room: "a", Seq: 0}},
		{{Room: "a", Seq: math.MaxInt64 + 1}},
		{{Room: "a", Seq: 2}, {Room: "a", Seq: 2}},
		{{Room: "a", Seq: 2}, {Room: "b", Seq: 1}, {Room: "a", Seq: 1}},
	} {
		if _, err := span.Rooms(bad); !errors.Is(err, store.ErrSeqConflict) {
			t.Errorf("Rooms(%v) = %v, want ErrSeqConflict", bad, err)
		}
	}
}

func TestBounds(t *testing.T) {
	for _, c := range []struct {
		after uint64
		lo    int64
		ok    bool
	}{{0, 1, true}, {5, 6, true}, {math.MaxInt64 - 1, math.MaxInt64, true}, {math.MaxInt64, 0, false}, {math.MaxUint64, 0, false}} {
		if lo, ok := span.After(c.after); lo != c.lo || ok != c.ok {
			t.Errorf("After(%d) = %d, %v; want %d, %v", c.after, lo, ok, c.lo, c.ok)
		}
	}
	for _, c := range []struct {
		before uint64
		hi     int64
		ok     bool
	}{{0, math.MaxInt64, true}, {1, 0, false}, {2, 1, true}, {math.MaxInt64, math.MaxInt64 - 1, true}, {math.MaxInt64 + 1, math.MaxInt64, true}, {math.MaxUint64, math.MaxInt64, true}} {
		if hi, ok := span.Before(c.before); hi != c.hi || ok != c.ok {
			t.Errorf("Before(%d) = %d, %v; want %d, %v", c.before, hi, ok, c.hi, c.ok)
		}
	}
}
