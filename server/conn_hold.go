package server

import (
	"sync"
	"time"
)

// A writer's hold is how long after a sweep began the next sweep may
// start; frames queued meanwhile wait and share a write. The cost of
// fan-out is the number of writes (a write system call on loopback costs
// about 10 µs, the receiver's side included, whether it carries one frame
// or ten, against about 1 µs for the rest of a delivery), so a hold saves
// CPU exactly when the frames it holds would otherwise have gone out in
// writes of their own, and only adds latency when they would not share one.
//
// All writers share one hold (sharedHold), and each sweep of any of them
// moves it. It reads the signs from the last sweep:
//
//   - Its length. A writer never starts sweeps closer than holdFactor
//     times the length of the previous one, up to baseHold: it spends at
//     most a fifth of its time writing before frames start to wait. This
//     is all the hold there is at light load, and it is short: a fan-out
//     to a thousand connections is held about 5 ms, one to a few
//     connections a few microseconds.
//
//   - Whether the load is sustained: the sweep's writes carried on average
//     sharedFrames or more frames each (frames arrive faster than the
//     writer sweeps), or most connections it wrote it had also written in
//     the previous sweep and either the writer was busy writing for at
//     least half the time since that sweep began or this sweep started as
//     soon as the base hold let it, frames already waiting (each of those
//     connections gets a frame every sweep, so holding will make them
//     share writes; 200 msgs/s to a room of 1,000 evenly spaced is this
//     case, a message per sweep with the sweeps back to back). Writes
//     cheap enough that a sweep takes under half the time between two
//     (a raw write system call, 2–3 ms for 500 connections) must not hide
//     it. A busy sweep over many connections that each had their first
//     frame in a while (many small rooms) is not: holding would add
//     latency and save no write.
//
//   - Its frames per write, once the load is sustained. After two
//     sustained sweeps in a row (one may be a burst) the hold doubles with
//     each further one, up to maxHold, while writes carry fewer than
//     fewFrames; then it stays. One sweep that is not sustained brings the
//     hold back to the base at once. Writes that carry plentyFrames also
//     bring it back: in an open loop doubling the hold from below fewFrames
//     cannot get there, but in a closed loop (senders waiting for their own
//     messages) every message in flight shares each write however long the
//     hold, and holding would only slow the senders down.
//
//   - Whether holding slows the frames down. In an open loop frames arrive
//     at their own pace, so a connection written every I receives about
//     λI frames a write whatever I is. In a closed loop with a small
//     window (senders that wait for their own messages, or for the acks
//     of their sends, before sending the next; fewer than fewFrames in
//     flight) the writes carry the whole window whatever the hold, and a
//     longer hold only makes the senders wait: the rate at which frames
//     reach a connection falls as the hold grows. Two senders each with
//     one message in flight in a room of 100 went from about 50,000
//     deliveries a second to 8,000 under a hold that did not look. So the
//     hold keeps moving averages of the frames per write and of the time
//     between sweeps, and, while at the base, a slower average of the rate
//     they give. It may grow only after baseSweeps sweeps at the base, so
//     that this rate is an average and not the luck of the sweeps that
//     made the load look sustained; and once the rate under a longer hold
//     falls below slowedBy of it, the hold goes back to the base and may
//     not grow again for cooldown. Random arrivals in an open loop at 200
//     msgs/s never did that in 40 simulated runs of ten minutes each (the
//     model in conn_hold_test.go).
//
// So a message or two at a time (20 msgs/s to 1,000, or two messages 10 ms
// apart) goes out as soon as the writer is free, and a burst is held the
// base. Entering the long hold takes sweeps that are busy back to back,
// keeping it only writes that share frames (at 30 ms, from about 50 msgs/s
// to a room), so a load near the threshold settles on one side instead of
// flapping every sweep.
//
// maxHold is the latency ceiling, and the trade is direct: a connection
// written every I carries λI frames per write for λ frames a second, and
// its frames wait up to I. At 200 msgs/s to a room of 1,000, 30 ms gives
// about 6 frames per write, 33,000 writes a second instead of 70,000–
// 100,000 when sweeps follow one another, about half the CPU per delivery;
// a frame waits at most 30 ms plus a sweep of a few ms, below the 42–60 ms
// that a reader of a per-connection writer loop (the gorilla chat example)
// sees at that load on the same machine, and far below what a person
// notices in a chat. Each further 10 ms would save a sixth fewer writes
// and add its full 10 ms to every frame.
const (
	holdFactor   = 4
	baseHold     = 5 * time.Millisecond
	maxHold      = 30 * time.Millisecond
	sharedFrames = 1.5 // frames per write from which a sweep's writes shared frames
	fewFrames    = 8   // the hold grows while writes carry fewer than this
	plentyFrames = 16  // from this a hold buys nothing worth its latency

	// slowedBy is how far the frames' arrival rate may fall under a long
	// hold before the hold is taken as slowing the senders down. The
	// averages move by rateWeight of each sweep's figures, and the rate at
	// the base by baseWeight, which smooths out the sweep-to-sweep swing
	// of random arrivals. maxSpan bounds what a pause adds to the average
	// time between sweeps, so that after an idle hour the rate is the
	// load's again within a few sweeps.
	slowedBy   = 0.4
	rateWeight = 0.25
	baseWeight = 0.125
	maxSpan    = 2 * maxHold
	baseSweeps = 16
	// timerSlack is how late a sweep may start after its hold and still
	// count as started by it: a timer's wake-up on a busy machine.
	timerSlack = 500 * time.Microsecond
	// cooldown is how long the hold stays at the base after it was found
	// to slow the senders; trying again costs a few sweeps at long holds,
	// a few per cent of a closed loop's throughput at this spacing.
	cooldown = 5 * time.Second
)

// sweepStats is what a writer counts of one sweep.
type sweepStats struct {
	start   time.Time
	took    time.Duration // from its start to its end
	since   time.Duration // from the previous sweep's start to its start
	writes  int
	frames  int // carried by the writes
	repeats int // writes to connections the previous sweep also wrote to
}

// hold is a writer's hold, and whether the sweep that set it found the
// load sustained.
type hold struct {
	d         time.Duration
	sustained bool
	// frames and span are moving averages of a sweep's frames per write
	// and of the time since the sweep before it (in seconds, a long pause
	// counted as maxSpan), so frames/span is the rate at which frames reach
	// a connection; atBase is that rate when the hold last grew past the
	// base. Averaging the two apart, over every sweep, keeps the rate from
	// leaning on the sweeps that happened to catch several frames.
	frames, span, atBase float64
	// based counts the sweeps at the base, up to baseSweeps, which the
	// hold needs before it may grow: atBase is then an average, not the
	// first sweeps' luck.
	based int
	// cooled is when the hold may grow again after it was found to slow
	// the senders.
	cooled time.Time
}

// next is the hold after sweep s.
func (h hold) next(s sweepStats) hold {
	base := min(holdFactor*s.took, baseHold)
	if s.writes == 0 {
		h.d, h.sustained = base, false
		return h
	}
	perWrite := float64(s.frames) / float64(s.writes)
	n := h.averaged(perWrite, min(s.since, maxSpan).Seconds())
	// The base hold bound this sweep when it started as soon as the hold
	// let it (frames were waiting for it); timerSlack covers the timer's
	// lateness. Above the base, the frames per write say whether holding
	// pays.
	bound := h.d > 0 && h.d <= baseHold && s.since <= h.d+h.d/4+timerSlack
	busy := (2*s.took >= s.since || bound) && 2*s.repeats > s.writes
	switch {
	case perWrite < sharedFrames && !busy:
		n.d = base
	case perWrite >= plentyFrames:
		n.d, n.sustained = base, true
	case h.d > baseHold && n.frames < slowedBy*h.atBase*n.span:
		n.d, n.sustained, n.cooled = base, true, s.start.Add(cooldown)
	case perWrite >= fewFrames:
		n.d, n.sustained = max(h.d, base), true
	case !h.sustained || s.start.Before(h.cooled) || n.based < baseSweeps:
		n.d, n.sustained = base, true
	default:
		n.d, n.sustained = min(max(2*h.d, base), maxHold), true
	}
	return n
}

// averaged is h with its averages moved toward one more sweep's frames per
// write and span, and no hold yet.
func (h hold) averaged(frames, span float64) hold {
	n := hold{frames: frames, span: span, atBase: h.atBase, cooled: h.cooled}
	if h.span > 0 {
		n.frames = h.frames + rateWeight*(frames-h.frames)
		n.span = h.span + rateWeight*(span-h.span)
	}
	n.based = h.based
	if h.d <= baseHold {
		n.based = min(h.based+1, baseSweeps)
		rate := n.frames / n.span
		if h.atBase == 0 {
			n.atBase = rate
		} else {
			n.atBase = h.atBase + baseWeight*(rate-h.atBase)
		}
	}
	return n
}

// sharedHold is the one hold of all the writers. A client's frames may be
// spread over every writer (a room's members are), so in a closed loop the
// slowest writer paces the senders for all of them: a writer that judged
// the load on its own would see the frames slowed by another's hold while
// at its base, and take that for the rate at the base.
type sharedHold struct {
	mu sync.Mutex
	h  hold
}

// after records sweep s and returns the hold that follows it.
func (sh *sharedHold) after(s sweepStats) time.Duration {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.h = sh.h.next(s)
	return sh.h.d
}
