package bench

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// catchUp is how far a paced loop (sendLoop, churn) may fall behind its
// schedule and still do at once what is due; beyond it, it skips the
// missed slots.
const catchUp = 100 * time.Millisecond

// warmUp waits out a warmup of d that ends at mStart, in phase "warmup",
// then enters phase next; it reports false if ctx ended first.
func warmUp(ctx context.Context, phase *atomic.Value, d time.Duration, mStart time.Time, next string) bool {
	if d <= 0 {
		return true
	}
	phase.Store("warmup")
	if !sleepUntil(ctx, nil, mStart) {
		return false
	}
	phase.Store(next)
	return true
}

// sleepUntil waits until t, or until ctx or stop ends; it reports whether t
// was reached.
func sleepUntil(ctx context.Context, stop <-chan struct{}, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// fanout sends from the senders for Warmup + Duration while every
// connection receives, then waits for the deliveries in flight: in one room
// (fanout) or in each room (rooms).
func (r *run) fanout(ctx context.Context, clients []*client, res *Result, phase *atomic.Value) error {
	cfg := r.cfg
	open := r.openPerGroup(clients)
	// The senders: the first nSenders connections (fanout), or the first
	// connection of each room with someone to send to (rooms).
	var senders []*client
	if r.rooms {
		picked := make([]bool, len(r.groups))
		for _, c := range clients {
			if !picked[c.group] && open[c.group] >= 2 {
				picked[c.group] = true
				c.senderID.Store(int32(c.group))
				senders = append(senders, c)
			}
		}
	} else {
		senders = clients[:min(r.nSenders, len(clients))]
		for i, c := range senders {
			c.senderID.Store(int32(i))
		}
	}
	res.Senders = len(senders)
	r.measuredSent = make([]int64, r.nSenders)
	if len(senders) == 0 {
		return errors.New("no room has 2 open connections")
	}

	// Rate > 0: evenly spaced sends, each sender offset by its share of the
	// interval. Rate 0: each sender may have own messages outstanding.
	var interval time.Duration
	if cfg.Rate > 0 {
		perSender := cfg.Rate / float64(len(senders))
		if r.rooms {
			perSender = cfg.Rate
		}
		interval = time.Duration(min(float64(time.Second)/perSender, float64(24*time.Hour)))
	}
	own := max(int64(cfg.Window)/int64(len(senders)), 1)

	t0 := time.Now()
	mStart := t0.Add(cfg.Warmup)
	mEnd := mStart.Add(cfg.Duration)
	r.mStart.Store(mStart.UnixNano())
	r.mEnd.Store(mEnd.UnixNano())
	r.storm.start.Store(mStart.Add(cfg.StormAt).UnixNano())

	stop := make(chan struct{})
	var wg sync.WaitGroup
	if r.storm.on {
		wg.Go(func() { r.stormLoop(ctx, stop, clients, mStart, mEnd) })
	}
	for j, c := range senders {
		id := int(c.senderID.Load())
		s := newSender(c, id, cfg.Size)
		first := t0.Add(interval * time.Duration(j) / time.Duration(len(senders)))
		wg.Go(func() {
			r.measuredSent[id] = r.sendLoop(ctx, stop, s, interval, own, first, mStart, mEnd)
		})
	}

	if !warmUp(ctx, phase, cfg.Warmup, mStart, "send") {
		close(stop)
		wg.Wait()
		return ctx.Err()
	}
	meter := startCPU(r.procs)
	sleepUntil(ctx, nil, mEnd)
	close(stop)
	wg.Wait()
	end := time.Now()
	if end.After(mEnd) {
		end = mEnd
	}
	meter.stopInto(res)
	res.Duration = end.Sub(mStart).Seconds()
	for _, c := range senders {
		n := r.measuredSent[c.senderID.Load()]
		res.Sent += n
		res.Expected += n * int64(open[c.group]-1)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Drain: wait for what is in flight, until all has arrived, nothing has
	// arrived for a while, or Drain is over.
	phase.Store("drain")
	t := time.Now()
	deadline := t.Add(cfg.Drain)
	lastDelivered, lastChange := int64(-1), t
	for {
		_, delivered, expected := r.totals()
		res.Outstanding = max(expected-delivered, 0)
		now := time.Now()
		if delivered >= expected || now.After(deadline) || now.Sub(lastChange) > 2*time.Second {
			break
		}
		if delivered != lastDelivered {
			lastDelivered, lastChange = delivered, now
		}
		if !sleepUntil(ctx, nil, now.Add(5*time.Millisecond)) {
			break
		}
	}
	res.DrainS = time.Since(t).Seconds()
	recordServerRSS(r.procs, res)
	return ctx.Err()
}

// sendLoop sends the messages of one sender until mEnd and returns how many
// it sent in [mStart, mEnd): every interval from first on, or, when interval
// is 0, whenever the sender has fewer than own messages outstanding and the
// run fewer than Window.
func (r *run) sendLoop(ctx context.Context, stop <-chan struct{}, s *sender, interval time.Duration, own int64, first, mStart, mEnd time.Time) (measured int64) {
	cfg := r.cfg
	st := &r.senders[s.id]
	live := &r.groups[s.c.group].live // the sender's room
	mS, mE := mStart.UnixNano(), mEnd.UnixNano()
	send := func(now time.Time) bool {
		ns := now.UnixNano()
		if ns >= mE {
			return false
		}
		st.expected.Add(max(live.Load()-1, 0))
		if ns >= mS && measured == 0 {
			st.firstMeasured.Store(s.seq + 1) // before its ack can come
		}
		err := s.send(ns)
		if err != nil {
			st.expected.Add(-max(live.Load()-1, 0))
			if !errors.Is(err, errConnOver) {
				r.writeErrs.Add(1)
				r.errs.add("write: ", err)
			}
			return false
		}
		st.sent.Add(1)
		if ns >= mS {
			measured++
		}
		return true
	}

	if interval > 0 {
		// A schedule of evenly spaced sends. A sender that falls behind
		// sends at once what is due, up to catchUp of it; beyond that it
		// skips the missed slots.
		next := first
		for {
			if !sleepUntil(ctx, stop, next) {
				return measured
			}
			now := time.Now()
			if !send(now) {
				return measured
			}
			next = next.Add(interval)
			if lag := now.Sub(next); lag > catchUp {
				next = now.Add(interval)
			}
		}
	}

	// Window: pause while too much is outstanding.
	global := int64(cfg.Window)
	for {
		backoff := 20 * time.Microsecond
		for {
			peers := max(live.Load()-1, 1)
			out := st.expected.Load() - st.delivered.Load()
			if out < own*peers {
				_, d, e := r.totals()
				if e-d < global*peers {
					break
				}
			}
			if !sleepUntil(ctx, stop, time.Now().Add(backoff)) {
				return measured
			}
			backoff = min(2*backoff, time.Millisecond)
		}
		select {
		case <-stop:
			return measured
		default:
		}
		if !send(time.Now()) {
			return measured
		}
	}
}
