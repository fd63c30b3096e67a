package bench

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// closeWait is how long a connection waits for the server's answer to its
// close frame before it drops the connection.
const closeWait = 3 * time.Second

// churnWorker is one of the Conns goroutines of the churn scenario; each
// has at most one connection open at a time. Its figures are of the
// measured interval.
type churnWorker struct {
	attempts, connects int64
	samples            []int64 // handshake times, ns
	seen               int64
	maxLat             int64
	rng                uint64
}

// churn opens connections and closes them again for Warmup + Duration: at
// Rate per second, or as fast as Conns at a time allow when Rate is 0. Each
// connection is held for Hold, then closed with a close handshake. It times
// the handshakes (TCP connect plus WebSocket upgrade) of the measured
// interval.
func (r *run) churn(ctx context.Context, res *Result, phase *atomic.Value) error {
	cfg := r.cfg
	t0 := time.Now()
	mStart := t0.Add(cfg.Warmup)
	mEnd := mStart.Add(cfg.Duration)
	mS, mE := mStart.UnixNano(), mEnd.UnixNano()
	sampleCap := max(cfg.MaxSamples/cfg.Conns, 16)

	stop := make(chan struct{}) // closed at mEnd
	// paced: with a Rate, a worker starts a cycle when the scheduler hands
	// it a token; the scheduler waits while every worker is busy.
	var tokens chan struct{}
	if cfg.Rate > 0 {
		tokens = make(chan struct{})
	}
	var next atomic.Int64 // index of the next connection, for its source address
	workers := make([]churnWorker, cfg.Conns)
	var wg sync.WaitGroup
	for w := range workers {
		cw := &workers[w]
		cw.rng = uint64(w+1)*0x9e3779b97f4a7c15 | 1
		wg.Go(func() {
			for {
				if tokens != nil {
					select {
					case <-tokens:
					case <-stop:
						return
					case <-ctx.Done():
						return
					}
				} else {
					select {
					case <-stop:
						return
					case <-ctx.Done():
						return
					default:
					}
				}
				r.cycle(ctx, stop, cw, int(next.Add(1)-1), mS, mE, sampleCap)
			}
		})
	}
	if tokens != nil {
		interval := time.Duration(min(float64(time.Second)/cfg.Rate, float64(24*time.Hour)))
		wg.Go(func() {
			end := time.NewTimer(time.Until(mEnd))
			defer end.Stop()
			for next := t0; next.Before(mEnd); {
				if !sleepUntil(ctx, stop, next) {
					return
				}
				select {
				case tokens <- struct{}{}:
				case <-end.C:
					return
				case <-stop:
					return
				case <-ctx.Done():
					return
				}
				next = next.Add(interval)
				if now := time.Now(); now.Sub(next) > catchUp {
					next = now.Add(interval)
				}
			}
		})
	}

	if !warmUp(ctx, phase, cfg.Warmup, mStart, "churn") {
		close(stop)
		wg.Wait()
		return ctx.Err()
	}
	meter := startCPU(r.procs)
	sleepUntil(ctx, nil, mEnd)
	end := time.Now()
	if end.After(mEnd) {
		end = mEnd
	}
	meter.stopInto(res)
	close(stop)
	phase.Store("drain")
	wg.Wait()
	res.DrainS = time.Since(end).Seconds()
	res.Duration = end.Sub(mStart).Seconds()

	var samples []int64
	var maxLat int64
	for i := range workers {
		w := &workers[i]
		res.Attempts += w.attempts
		res.Connects += w.connects
		samples = append(samples, w.samples...)
		maxLat = max(maxLat, w.maxLat)
	}
	slices.Sort(samples)
	if res.Duration > 0 {
		res.ConnectsPerSec = float64(res.Connects) / res.Duration
	}
	res.HandshakeSamples = len(samples)
	res.HandshakeP50 = ms(percentile(samples, 0.50))
	res.HandshakeP90 = ms(percentile(samples, 0.90))
	res.HandshakeP99 = ms(percentile(samples, 0.99))
	res.HandshakeMax = ms(maxLat)
	res.Open = int(r.peak.Load())
	res.ConnectErrors = int(r.connectErrs.Load())
	res.CloseErrors = int(r.closeErrs.Load())
	recordServerRSS(r.procs, res)
	if ctx.Err() == nil && r.dials.Load() == 0 && res.ConnectErrors > 0 {
		return errors.New("no connection could be opened")
	}
	return ctx.Err()
}

// cycle opens connection i, holds it for Hold (less when stop closes) and
// closes it with a close handshake, bounded by closeWait; after mE it does
// nothing.
func (r *run) cycle(ctx context.Context, stop <-chan struct{}, w *churnWorker, i int, mS, mE int64, sampleCap int) {
	start := time.Now()
	ns := start.UnixNano()
	if ns >= mE {
		return // handed out just before the end
	}
	measured := ns >= mS
	if measured {
		w.attempts++
	}
	c, err := r.dial(ctx, i)
	if err != nil {
		if ctx.Err() == nil {
			r.connectErrs.Add(1)
			r.errs.add("connect: ", err)
		}
		return
	}
	if measured {
		lat := time.Since(start).Nanoseconds()
		w.connects++
		w.maxLat = max(w.maxLat, lat)
		w.seen++
		w.samples = keepSample(w.samples, w.seen, &w.rng, sampleCap, lat)
	}
	if hold := r.cfg.Hold; hold > 0 {
		t := time.NewTimer(hold)
		select {
		case <-t.C:
		case <-c.done:
		case <-stop:
		case <-ctx.Done():
		}
		t.Stop()
	}
	c.startClose()
	t := time.NewTimer(closeWait)
	select {
	case <-c.done:
	case <-t.C:
		r.closeErrs.Add(1)
		r.errs.addN("close: no answer to the close frame within 3s", 1)
		c.conn.Close()
		<-c.done
	}
	t.Stop()
	if !c.byServer.Load() {
		r.live.Add(-1)
		r.groups[c.group].live.Add(-1)
	}
}
