package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// stormID is the id of every reaction request of a storm, so that their
// answers are told apart from those of the messages.
const stormID = "storm"

var (
	keyID  = []byte(`"id":"`)
	keySeq = []byte(`"seq":`)
	// keyFirst is in a reactions event: the first seq it covers.
	keyFirst = []byte(`"first":`)
)

// stormState is what the storm shares with the readers.
type stormState struct {
	on bool
	// start is the unix time in ns of the first storm, MaxInt64 until the
	// measured interval is set.
	start  atomic.Int64
	window int64 // Config.StormWindow, ns
	every  int64 // Config.StormEvery, ns
	// target is the seq of the message reacted to: the first message event
	// any connection received; 0 until then.
	target atomic.Int64
	storms atomic.Int64 // storms whose reactions were all sent
	reacts atomic.Int64 // reaction requests written
}

// stormStats are one receiver's counters of the storms.
type stormStats struct {
	events  int64 // react, unreact and reactions events received
	covered int64 // reactions those events carried
	acks    int64 // answers to its own reactions
	errs    int64
	samples []int64 // latency of messages sent during a storm, ns
	seen    int64
	max     int64
}

// during reports whether a message stamped ts was sent during a storm: from
// its start until a window after its reactions ended.
func (s *stormState) during(ts int64) bool {
	d := ts - s.start.Load()
	if !s.on || d < 0 {
		return false
	}
	if s.every > 0 {
		d %= s.every
	}
	return d < 2*s.window
}

// stormEvent accounts for an event of the storms: a react, unreact or
// reactions event, or the answer to a reaction of this connection. It
// reports whether ev was one.
func (c *client) stormEvent(typ, ev []byte) bool {
	st := &c.storm
	switch string(typ) {
	case "react", "unreact":
		st.events++
		st.covered++
	case "reactions":
		st.events++
		seq, _, ok1 := parseUint(numberField(ev, keySeq), 0)
		first, _, ok2 := parseUint(numberField(ev, keyFirst), 0)
		if ok1 && ok2 && seq >= first {
			st.covered += seq - first + 1
		}
	case "ack", "error":
		if id, ok := stringField(ev, keyID); !ok || string(id) != stormID {
			return false
		}
		if typ[0] == 'a' {
			st.acks++
		} else {
			st.errs++
		}
	default:
		return false
	}
	return true
}

// noteTarget takes the seq of message event ev as the storms' target unless
// one is already taken.
func (c *client) noteTarget(ev []byte) {
	s := &c.r.storm
	if !s.on || s.target.Load() != 0 {
		return
	}
	if seq, _, ok := parseUint(numberField(ev, keySeq), 0); ok && seq > 0 {
		s.target.CompareAndSwap(0, seq)
	}
}

// sampleStorm keeps the latency of a message sent during a storm.
func (c *client) sampleStorm(lat int64) {
	st := &c.storm
	st.max = max(st.max, lat)
	st.seen++
	st.samples = keepSample(st.samples, st.seen, &c.rng, c.r.sampleCap, lat)
}

// stormLoop runs the storms of a fanout that started its measured interval
// at mStart: at each storm's start, every open connection of clients sends
// one reaction to the target, spread evenly over StormWindow. It returns
// when the storms are over or stop is closed.
func (r *run) stormLoop(ctx context.Context, stop <-chan struct{}, clients []*client, mStart, mEnd time.Time) {
	cfg := r.cfg
	room, _ := json.Marshal(cfg.Room) // a string always encodes
	for k := 0; ; k++ {
		start := mStart.Add(cfg.StormAt + time.Duration(k)*cfg.StormEvery)
		if !start.Before(mEnd) || !sleepUntil(ctx, stop, start) {
			return
		}
		target := r.storm.target.Load()
		if target == 0 {
			r.errs.add("storm: ", fmt.Errorf("no message received to react to"))
		} else {
			typ := "react"
			if k%2 == 1 {
				typ = "unreact"
			}
			req := fmt.Appendf(nil, `{"type":%q,"id":%q,"room":%s,"target":%d,"emoji":":+1:"}`, typ, stormID, room, target)
			for i, c := range clients {
				at := start.Add(cfg.StormWindow * time.Duration(i) / time.Duration(len(clients)))
				if !sleepUntil(ctx, stop, at) {
					return
				}
				if c.dead.Load() {
					continue
				}
				if err := c.writeText(req); err != nil {
					r.writeErrs.Add(1)
					r.errs.add("storm: ", err)
					continue
				}
				r.storm.reacts.Add(1)
			}
			r.storm.storms.Add(1)
		}
		if cfg.StormEvery == 0 {
			return
		}
	}
}

// stormResults fills in the storm's figures of res.
func (r *run) stormResults(clients []*client, res *Result) {
	if !r.storm.on {
		return
	}
	storms := r.storm.storms.Load()
	res.Storms = int(storms)
	res.StormReacts = r.storm.reacts.Load()
	var events, covered, most int64
	var samples []int64
	var maxLat int64
	for _, c := range clients {
		st := &c.storm
		events += st.events
		covered += st.covered
		most = max(most, st.events)
		res.StormAcks += st.acks
		res.StormErrors += st.errs
		samples = append(samples, st.samples...)
		st.samples = nil
		maxLat = max(maxLat, st.max)
	}
	if storms > 0 && len(clients) > 0 {
		per := float64(storms) * float64(len(clients))
		res.StormEventsPerConn = round1(float64(events) / per)
		res.StormEventsMax = round1(float64(most) / float64(storms))
		res.StormCoveredPerConn = round1(float64(covered) / per)
	}
	slices.Sort(samples)
	res.StormLatencySamples = len(samples)
	res.StormLatencyP50 = ms(percentile(samples, 0.50))
	res.StormLatencyP99 = ms(percentile(samples, 0.99))
	res.StormLatencyMax = ms(maxLat)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
