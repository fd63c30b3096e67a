package server

import "time"

// A writer's hold is how long after a sweep began the next sweep may
// start; frames queued meanwhile wait and share a write. The cost of
// fan-out is the number of writes (a write system call on loopback costs
// about 10 µs, the receiver's side included, whether it carries one frame
// or ten, against about 1 µs for the rest of a delivery), so a hold saves
// CPU exactly when the frames it holds would otherwise have gone out in
// writes of their own, and only adds latency when they would not share one.
//
// The writer reads the signs from its own last sweep:
//
//   - Its length. A writer never starts sweeps closer than holdFactor
//     times the length of the previous one, up to baseHold: it spends at
//     most a fifth of its time writing before frames start to wait. This
//     is all the hold there is at light load, and it is short: a fan-out
//     to a thousand connections is held about 5 ms, one to a few
//     connections a few microseconds.
//   - Whether the load is sustained: the sweep's writes carried on average
//     sharedFrames or more frames each (frames arrive faster than the
//     writer sweeps), or the writer was busy writing for at least half the
//     time since its previous sweep began and most connections it wrote it
//     had also written in that previous sweep (each of them gets a frame
//     every sweep, so holding will make them share writes; 200 msgs/s to
//     a room of 1,000 evenly spaced is this case, a message per sweep with
//     the sweeps back to back). A busy sweep over many connections that
//     each had their first frame in a while (many small rooms) is not:
//     holding would add latency and save no write.
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
)

// sweepStats is what a writer counts of one sweep.
type sweepStats struct {
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
}

// next is the hold after sweep s.
func (h hold) next(s sweepStats) hold {
	base := min(holdFactor*s.took, baseHold)
	perWrite := 0.0
	if s.writes > 0 {
		perWrite = float64(s.frames) / float64(s.writes)
	}
	busy := 2*s.took >= s.since && 2*s.repeats > s.writes
	switch {
	case perWrite < sharedFrames && !busy:
		return hold{d: base}
	case perWrite >= plentyFrames:
		return hold{d: base, sustained: true}
	case perWrite >= fewFrames:
		return hold{d: max(h.d, base), sustained: true}
	case !h.sustained:
		return hold{d: base, sustained: true}
	}
	return hold{d: min(max(2*h.d, base), maxHold), sustained: true}
}
