// Package journal owns group commit: it takes messages from any number of
// goroutines, appends them to a store.Store in batches, and reports each
// message's outcome, in the order the messages were stored, once its
// batch is durable. That is the order they were submitted in, but that a
// new message may go ahead of changes (reactions, edits, deletes) queued
// by other senders, so as not to wait for them (see order.go).
//
// Submit never blocks and never waits for the disk, so a caller may submit
// while holding a lock (the hub submits under a room's lock and numbers
// its messages when the committer stores them, so the room's sequence is
// the journal's order). The queue behind it is
// bounded by the callers: Backlog tells them how much is waiting, and they
// hold back, outside their locks, when it is too much.
//
// One goroutine, started by New and stopped by Close, does the appends and
// runs the callbacks, so callbacks run one at a time, in the order the
// messages were numbered and stored, and must not block.
//
// A Set is several journals over one store, each with its own goroutine,
// and sends every message of a room to the same one: order holds within a
// room, and a slow commit (a slow fsync, a lock wait) holds up only the
// rooms of its journal. Callbacks of different journals run concurrently.
package journal

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chatd/chatd/store"
)

// ErrClosed is returned for messages submitted after Close began.
var ErrClosed = errors.New("journal closed")

// Config configures a Journal. Zero fields mean their defaults.
type Config struct {
	// Store receives the batches. It is required.
	Store store.Store
	// MaxBatch bounds the messages in one append. Zero means 4096: above
	// what a closed loop of a few thousand messages in flight leaves queued
	// during a commit (about half of them), since a store's cost per
	// message falls steeply with the batch (docs/benchmarks.md).
	MaxBatch int
	// AppendTimeout bounds one append, the numbering of its messages
	// included. Zero means 30s.
	AppendTimeout time.Duration
	// Gather is how long changes (reactions, edits, deletes) may wait for
	// more of them before they are appended without a new message (see
	// gather.go). Zero means 5ms; a negative value turns it off.
	Gather time.Duration
	// OnCommit, if set, is told each batch's size, how long its append took,
	// and whether it failed, for metrics. The journals of a Set share it and
	// call it concurrently.
	OnCommit func(size int, took time.Duration, err error)
	// Sequencer, when set, is Store numbering messages itself: batches are
	// appended with AppendNumbered, in which the store gives each message
	// its room's next number, so that processes sharing the store give a
	// room one sequence. Number callbacks are then not called; each
	// message's number reaches its Numbered callback (SubmitNumbered).
	Sequencer store.Sequencer
}

// Done receives a message's outcome: nil once it is durable, or the error
// that kept it from being stored.
type Done func(error)

// Number gives a message its sequence number. The committer calls it just
// before the message's batch is appended, so that a number goes only to a
// message about to be stored: when the batch fails, the numbers it took are
// the last ones given out in their rooms, and the caller can hand them out
// again (see the hub). It runs on the committer goroutine, one message at a
// time in the order the batch is stored, and may block briefly (it may read the store,
// within ctx, the context that also bounds the batch's append).
type Number func(ctx context.Context) uint64

// Numbered receives the outcome of a message submitted with
// SubmitNumbered: the message as stored, with the number the store gave
// it, once it is durable, or the error that kept it from being stored.
// repeat says that the store already held the message (the same client
// message id from the same sender, see store.Sequencer): stored is then
// the original, and nothing new was stored.
type Numbered func(stored store.Message, repeat bool, err error)

// Stored receives the outcome of a message submitted with SubmitStored:
// nil once it is durable, with the message as the store's Append left it
// (see store.Message.Tally), or the error that kept it from being stored.
type Stored func(stored store.Message, err error)

type entry struct {
	msg      store.Message
	at       time.Time // when a change was submitted, for Gather
	number   Number
	done     Done
	stored   Stored
	numbered Numbered
	early    func(store.Message)
}

// Journal batches appends to a store. Its methods are safe for concurrent use.
type Journal struct {
	cfg     Config
	wake    chan struct{} // capacity 1
	stopped chan struct{} // closed when the committer has finished

	mu      sync.Mutex
	queue   []entry
	closing bool
	// drained, when set, is closed by the committer once it takes a batch
	// off the queue: it wakes the callers waiting in WaitBelow. It is made
	// only while someone waits, so a journal nobody waits on pays nothing.
	drained chan struct{}
}

// New starts the committer goroutine.
func New(cfg Config) *Journal {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	if cfg.AppendTimeout <= 0 {
		cfg.AppendTimeout = 30 * time.Second
	}
	if cfg.Gather == 0 {
		cfg.Gather = defaultGather
	}
	j := &Journal{cfg: cfg, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go j.run()
	return j
}

// Submit queues m; done is called once m is durable or has failed. When
// number is set, m.Seq is ignored and m is stored with the number it
// returns. Submit never blocks, and never calls number or done itself:
// after Close it returns ErrClosed instead.
func (j *Journal) Submit(m store.Message, number Number, done Done) error {
	return j.submit(entry{msg: m, number: number, done: done})
}

// SubmitStored is Submit for a caller that wants m as Append left it.
func (j *Journal) SubmitStored(m store.Message, number Number, done Stored) error {
	return j.submit(entry{msg: m, number: number, stored: done})
}

// SubmitNumbered queues m on a journal whose Config.Sequencer is set, for
// the store to number; done is called with that number once m is durable,
// or with the error that kept it from being stored. Like Submit it never
// blocks.
func (j *Journal) SubmitNumbered(m store.Message, done Numbered) error {
	if j.cfg.Sequencer == nil {
		return errors.New("journal: SubmitNumbered without a Sequencer")
	}
	return j.submit(entry{msg: m, numbered: done})
}

// SubmitNumberedEarly is SubmitNumbered with early, which is called with
// m as stored once its batch is durable, unless m is a repeat, before the
// done callback of any message of the batch: the early callbacks of a
// batch run in order, then the done callbacks in order. A caller whose
// done callbacks take time (delivering each message) can thus tell others
// of the whole batch at once. Like the other callbacks, it must not block.
func (j *Journal) SubmitNumberedEarly(m store.Message, early func(store.Message), done Numbered) error {
	if j.cfg.Sequencer == nil {
		return errors.New("journal: SubmitNumberedEarly without a Sequencer")
	}
	return j.submit(entry{msg: m, numbered: done, early: early})
}

func (j *Journal) submit(e entry) error {
	if j.cfg.Gather > 0 && isChange(&e.msg) {
		e.at = time.Now()
	}
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		return ErrClosed
	}
	j.queue = append(j.queue, e)
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return nil
}

// Backlog returns the number of messages waiting to be appended.
func (j *Journal) Backlog() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.queue)
}

// WaitBelow waits until fewer than n messages wait to be appended, or ctx
// ends. It waits for the committer to take batches off the queue, not on a
// timer; a caller that then submits may still find the queue at n, as
// others may have submitted meanwhile.
func (j *Journal) WaitBelow(ctx context.Context, n int) error {
	for {
		j.mu.Lock()
		if len(j.queue) < n {
			j.mu.Unlock()
			return nil
		}
		if j.drained == nil {
			j.drained = make(chan struct{})
		}
		drained := j.drained
		j.mu.Unlock()
		select {
		case <-drained:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close refuses new messages, waits until everything queued is appended
// and its callbacks have run, and stops the committer. If ctx ends first it
// returns ctx's error, and the committer finishes the queue on its own.
func (j *Journal) Close(ctx context.Context) error {
	j.refuse()
	return j.wait(ctx)
}

// refuse makes Submit return ErrClosed from now on, and has the committer
// stop once the queue is empty.
func (j *Journal) refuse() {
	j.mu.Lock()
	j.closing = true
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// wait waits until the committer has stopped or ctx ends. A committer that
// has already stopped counts as stopped even if ctx has ended too.
func (j *Journal) wait(ctx context.Context) error {
	select {
	case <-j.stopped:
		return nil
	default:
	}
	select {
	case <-j.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *Journal) run() {
	defer close(j.stopped)
	var batch []entry
	var msgs []store.Message
	var repeats []int
	// left is how many entries at the head of the queue a batch of new
	// messages went ahead of (see messagesFirst): they are the next batch.
	left := 0
	senders := make(map[string]struct{})
	var gathering *time.Timer
	for {
		j.mu.Lock()
		if wait := j.gatherLocked(left); wait > 0 {
			j.mu.Unlock()
			if gathering == nil {
				gathering = time.NewTimer(wait)
			} else {
				gathering.Reset(wait)
			}
			select {
			case <-gathering.C:
			case <-j.wake:
				gathering.Stop()
			}
			continue
		}
		n := min(len(j.queue), j.cfg.MaxBatch)
		batch = batch[:0]
		switch {
		case left > 0:
			n, left = left, 0
		case j.cfg.Sequencer == nil:
			batch, left = messagesFirst(j.queue[:n], batch, senders)
			n -= left
		}
		if len(batch) == 0 {
			batch = append(batch, j.queue[:n]...)
			clear(j.queue[:n])
		}
		j.queue = j.queue[n:]
		if len(j.queue) == 0 {
			j.queue = nil // let a burst's array go
		}
		if n > 0 && j.drained != nil {
			close(j.drained)
			j.drained = nil
		}
		closing := j.closing
		j.mu.Unlock()

		if n == 0 {
			if closing {
				return
			}
			<-j.wake
			continue
		}
		// One append for the whole batch: a failure (the store is down, or
		// another process took a sequence number) fails every message in it,
		// and each sender is told.
		err := j.append(batch, &msgs, &repeats)
		if err == nil {
			j.early(batch, msgs, repeats)
		}
		for i, e := range batch {
			if e.numbered != nil {
				repeat := len(repeats) > 0 && repeats[0] == i
				if repeat {
					repeats = repeats[1:]
				}
				e.numbered(msgs[i], repeat, err)
			} else if e.stored != nil {
				e.stored(msgs[i], err)
			} else {
				e.done(err)
			}
			batch[i] = entry{}
		}
	}
}

// early runs the early callbacks of a durable batch, skipping the
// repeats (their indices, ascending, in repeats).
func (j *Journal) early(batch []entry, msgs []store.Message, repeats []int) {
	for i, e := range batch {
		if len(repeats) > 0 && repeats[0] == i {
			repeats = repeats[1:]
			continue
		}
		if e.early != nil {
			e.early(msgs[i])
		}
	}
}

func (j *Journal) append(batch []entry, msgs *[]store.Message, repeats *[]int) error {
	ctx, cancel := context.WithTimeout(context.Background(), j.cfg.AppendTimeout)
	defer cancel()
	*msgs = (*msgs)[:0]
	for _, e := range batch {
		if e.number != nil && j.cfg.Sequencer == nil {
			e.msg.Seq = e.number(ctx)
		}
		*msgs = append(*msgs, e.msg)
	}
	start := time.Now()
	var err error
	if j.cfg.Sequencer != nil {
		*repeats, err = j.cfg.Sequencer.AppendNumbered(ctx, *msgs)
	} else {
		err = j.cfg.Store.Append(ctx, *msgs)
	}
	if j.cfg.OnCommit != nil {
		j.cfg.OnCommit(len(*msgs), time.Since(start), err)
	}
	return err
}
