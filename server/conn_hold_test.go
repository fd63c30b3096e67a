package server

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestAWritersHold(t *testing.T) {
	const ms = time.Millisecond
	long := hold{d: maxHold, sustained: true, based: baseSweeps}
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
		{"200 msgs/s to 1,000 with cheap writes: sweeps over the same connections that start as soon as the base hold lets them double it, though each took under half the time",
			hold{d: baseHold, sustained: true, based: baseSweeps}, sweepStats{took: 2 * ms, since: baseHold + 100*time.Microsecond, writes: 500, frames: 500, repeats: 500},
			hold{d: 2 * baseHold, sustained: true}},
		{"and the first such sweep finds the load sustained",
			hold{d: baseHold, based: baseSweeps}, sweepStats{took: 2 * ms, since: baseHold + 100*time.Microsecond, writes: 500, frames: 500, repeats: 500},
			hold{d: baseHold, sustained: true}},
		{"many small rooms: a long busy sweep of connections not in the previous one is held the base",
			hold{d: baseHold, sustained: true}, sweepStats{took: 40 * ms, since: 45 * ms, writes: 20000, frames: 20000, repeats: 3000},
			hold{d: baseHold}},
		{"sustained: writes sharing frames a second sweep in a row double the hold",
			hold{d: baseHold, sustained: true, based: baseSweeps}, sweepStats{took: 3 * ms, since: 8 * ms, writes: 1000, frames: 2000, repeats: 1000},
			hold{d: 2 * baseHold, sustained: true}},
		{"sustained: sweeps back to back over the same connections double it, though each carries one frame",
			hold{d: baseHold, sustained: true, based: baseSweeps}, sweepStats{took: 6 * ms, since: 6 * ms, writes: 500, frames: 550, repeats: 500},
			hold{d: 2 * baseHold, sustained: true}},
		{"sustained: a short previous hold grows from the base",
			hold{d: 100 * time.Microsecond, sustained: true, based: baseSweeps}, sweepStats{took: 3 * ms, since: 3 * ms, writes: 1000, frames: 2000, repeats: 1000},
			hold{d: baseHold, sustained: true}},
		{"sustained: the hold stops at the ceiling",
			hold{d: 20 * ms, sustained: true, based: baseSweeps}, sweepStats{took: 2 * ms, since: 20 * ms, writes: 500, frames: 2500, repeats: 500},
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
		if got := tc.prev.next(tc.s); got.d != tc.want.d || got.sustained != tc.want.sustained {
			t.Errorf("%s: %+v.next(%+v) = %+v, want %+v", tc.name, tc.prev, tc.s, got, tc.want)
		}
	}
}

// 200 msgs/s to the 500 connections of a writer that needs 6 ms to write
// to them all reaches the ceiling within a few sweeps, and light load after
// it is back to the base after one sweep.
func TestAWritersHoldUnderSustainedLoadAndAfter(t *testing.T) {
	const took, gap = 6 * time.Millisecond, 5 * time.Millisecond
	h := hold{d: baseHold, based: baseSweeps} // after a while at the base
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

// A closed loop with a small window: two senders that each wait for their
// own message before sending the next, so every write carries the two
// messages in flight however long the hold, and a longer hold only makes
// the senders wait. The hold must go back to the base, stay there for the
// cooldown, and spend few sweeps above it over a long run.
func TestAWritersHoldDoesNotSlowAClosedLoop(t *testing.T) {
	const took = 6 * time.Millisecond
	h := hold{d: baseHold}
	now := time.Unix(0, 0)
	sweep := func() {
		since := max(h.d, took)
		now = now.Add(since)
		h = h.next(sweepStats{start: now, took: took, since: since, writes: 500, frames: 1000, repeats: 500})
	}
	long := 0
	for range 1000 {
		sweep()
		if h.d > 2*baseHold {
			long++
		}
	}
	if long > 100 {
		t.Fatalf("in 1,000 sweeps of a closed loop the hold was above %v in %d", 2*baseHold, long)
	}
	for !h.cooled.After(now) {
		sweep()
	}
	for cooled := h.cooled; now.Before(cooled); {
		sweep()
		if h.d > baseHold && now.Before(cooled) {
			t.Fatalf("the hold grew to %v during its cooldown", h.d)
		}
	}
}

// An open loop with random (Poisson) arrivals at 200 msgs/s to the 500
// connections of a writer: the arrival rate does not depend on the hold, so
// the swing of random arrivals must never be taken for a closed loop, and
// the hold stays at the ceiling most of the time (a sweep that caught one
// frame or none ends it, as it should when the load may have stopped).
func TestAWritersHoldKeepsTheCeilingForRandomArrivals(t *testing.T) {
	const took, rate = 3 * time.Millisecond, 200.0
	rng := rand.New(rand.NewPCG(1, 2))
	poisson := func(mean float64) int { // Knuth's method; mean is small
		n, p := 0, rng.Float64()
		for limit := math.Exp(-mean); p > limit; p *= rng.Float64() {
			n++
		}
		return n
	}
	h := hold{d: baseHold}
	now := time.Unix(0, 0)
	atCeiling := 0
	const sweeps = 20000
	for i := range sweeps {
		since := max(h.d, took)
		frames := poisson(rate * since.Seconds())
		if frames == 0 {
			// nothing arrived: the writer sleeps until the next frame, a
			// sweep a mean interval later that is not sustained
			since += time.Second / rate
			now = now.Add(since)
			h = h.next(sweepStats{start: now, took: took, since: since, writes: 500, frames: 500, repeats: 500})
			continue
		}
		now = now.Add(since)
		h = h.next(sweepStats{start: now, took: took, since: since, writes: 500, frames: 500 * frames, repeats: 500})
		if i > 100 && h.d == maxHold {
			atCeiling++
		}
	}
	if !h.cooled.IsZero() {
		t.Fatalf("random arrivals were taken for a closed loop: the hold cooled down until %v", h.cooled.Sub(time.Unix(0, 0)))
	}
	if share := float64(atCeiling) / sweeps; share < 0.7 {
		t.Fatalf("the hold was at the ceiling in %.0f%% of the sweeps, want at least 70%%", 100*share)
	}
}
