package server

import (
	"testing"
	"time"
)

func TestAWritersHold(t *testing.T) {
	const ms = time.Millisecond
	long := hold{d: maxHold, sustained: true}
	for _, tc := range []struct {
		name string
		prev hold
		s    sweepStats
		want hold
	}{
		{"nothing written: the next frame goes at once",
			hold{}, sweepStats{since: time.Hour}, hold{}},
		{"a fan-out to a few connections is held a few microseconds",
			hold{}, sweepStats{took: 10 * time.Microsecond, since: time.Second, writes: 3, frames: 3},
			hold{d: 40 * time.Microsecond}},
		{"20 msgs/s to 1,000: a frame each, the writer idle most of the time, is held the base",
			hold{d: baseHold}, sweepStats{took: 3 * ms, since: 50 * ms, writes: 1000, frames: 1000, repeats: 1000},
			hold{d: baseHold}},
		{"two messages 10 ms apart: the second sweep is busy, but one busy sweep holds the base",
			hold{d: baseHold}, sweepStats{took: 6 * ms, since: 10 * ms, writes: 500, frames: 500, repeats: 500},
			hold{d: baseHold, sustained: true}},
		{"a burst: one sweep that shared frames holds the base",
			hold{d: baseHold}, sweepStats{took: 3 * ms, since: time.Second, writes: 1000, frames: 2000},
			hold{d: baseHold, sustained: true}},
		{"many small rooms: a long busy sweep of connections not in the previous one is held the base",
			hold{d: baseHold, sustained: true}, sweepStats{took: 40 * ms, since: 45 * ms, writes: 20000, frames: 20000, repeats: 3000},
			hold{d: baseHold}},
		{"sustained: writes sharing frames a second sweep in a row double the hold",
			hold{d: baseHold, sustained: true}, sweepStats{took: 3 * ms, since: 8 * ms, writes: 1000, frames: 2000, repeats: 1000},
			hold{d: 2 * baseHold, sustained: true}},
		{"sustained: sweeps back to back over the same connections double it, though each carries one frame",
			hold{d: baseHold, sustained: true}, sweepStats{took: 6 * ms, since: 6 * ms, writes: 500, frames: 550, repeats: 500},
			hold{d: 2 * baseHold, sustained: true}},
		{"sustained: a short previous hold grows from the base",
			hold{d: 100 * time.Microsecond, sustained: true}, sweepStats{took: 3 * ms, since: 3 * ms, writes: 1000, frames: 2000, repeats: 1000},
			hold{d: baseHold, sustained: true}},
		{"sustained: the hold stops at the ceiling",
			hold{d: 20 * ms, sustained: true}, sweepStats{took: 2 * ms, since: 20 * ms, writes: 500, frames: 2500, repeats: 500},
			long},
		{"200 msgs/s to 1,000 at the ceiling stays there, though the writer is now mostly idle",
			long, sweepStats{took: 3 * ms, since: maxHold, writes: 500, frames: 3000, repeats: 500},
			long},
		{"one sweep that is neither busy nor shares frames ends a long hold",
			long, sweepStats{took: 2 * ms, since: maxHold, writes: 500, frames: 600, repeats: 500},
			hold{d: baseHold}},
		{"writes that carry enough frames keep the hold",
			hold{d: 20 * ms, sustained: true}, sweepStats{took: 2 * ms, since: 20 * ms, writes: 1000, frames: fewFrames * 1000, repeats: 1000},
			hold{d: 20 * ms, sustained: true}},
		{"writes that carry plenty of frames end a long hold (a closed loop)",
			long, sweepStats{took: 2 * ms, since: maxHold, writes: 1000, frames: plentyFrames * 1000, repeats: 1000},
			hold{d: baseHold, sustained: true}},
		{"and so do writes of a closed loop's whole window",
			hold{d: 20 * ms, sustained: true}, sweepStats{took: ms, since: 20 * ms, writes: 1000, frames: 32000, repeats: 1000},
			hold{d: 4 * ms, sustained: true}},
	} {
		if got := tc.prev.next(tc.s); got != tc.want {
			t.Errorf("%s: %+v.next(%+v) = %+v, want %+v", tc.name, tc.prev, tc.s, got, tc.want)
		}
	}
}

// 200 msgs/s to the 500 connections of a writer that needs 6 ms to write
// to them all reaches the ceiling within a few sweeps, and light load after
// it is back to the base after one sweep.
func TestAWritersHoldUnderSustainedLoadAndAfter(t *testing.T) {
	const took, gap = 6 * time.Millisecond, 5 * time.Millisecond
	h := hold{d: baseHold}
	sweeps := 0
	for h.d < maxHold {
		since := max(h.d, took)
		h = h.next(sweepStats{took: took, since: since, writes: 500, frames: 500 * max(1, int(since/gap)), repeats: 500})
		if sweeps++; sweeps > 5 {
			t.Fatalf("after %d busy sweeps the hold is %v, want %v", sweeps, h.d, maxHold)
		}
	}
	h = h.next(sweepStats{took: 3 * time.Millisecond, since: time.Second, writes: 500, frames: 500, repeats: 500})
	if h.d != baseHold || h.sustained {
		t.Fatalf("after a sweep a second after the last one the hold is %+v, want %v", h, baseHold)
	}
}
