package journal

import "time"

// In a storm of reactions the committer would append every one or two of
// them on its own, each append with its own fsync: on SQLite that was
// about 600 appends a second during a storm of 1,000 reactions, and two
// thirds of the server's CPU per reaction (docs/benchmarks.md). So
// changes with no new message among them wait up to Gather, from the
// first one's submission, for more, and go out together. A new message
// never waits: it wakes the committer, goes ahead of the changes
// gathered (order.go), and they follow in the next append. Nor does a
// journal that is closing, one whose store numbers the messages (its
// order is the cluster's), or a gathering that has reached maxGathered.
//
// What a change's sender waits for is its acknowledgement, which in a
// storm waits for the end of the reaction's run anyway (runHold, in the
// hub), ten times Gather.

// defaultGather is Gather's default.
const defaultGather = 5 * time.Millisecond

// maxGathered is how many changes end a gathering at once.
const maxGathered = 64

// gatherLocked reports how much longer the committer should wait before
// it takes the queue: more than zero only while every entry queued is a
// change and the first came less than Gather ago. left is the count of
// changes passed by new messages, which go at once (order.go). It is
// called with j.mu held.
func (j *Journal) gatherLocked(left int) time.Duration {
	if j.cfg.Gather <= 0 || j.cfg.Sequencer != nil || j.closing || left > 0 ||
		len(j.queue) == 0 || len(j.queue) >= maxGathered {
		return 0
	}
	for i := range j.queue {
		if !isChange(&j.queue[i].msg) {
			return 0
		}
	}
	return j.cfg.Gather - time.Since(j.queue[0].at)
}
