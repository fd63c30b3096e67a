// Package bench owns chatbench's load generator for plain-text WebSocket
// broadcast servers (every text frame a client sends goes to every other
// client), and for chatd's JSON protocol (subprotocol chatd.v1: send
// requests, acks and message events): opening many client connections
// cheaply, sending timestamped messages at a fixed rate or as fast as a
// window of outstanding deliveries allows, in one room or in many rooms at
// once, checking and timing what each receiver gets (loss, duplicates,
// order, echoes of its own messages, messages from another room, several
// messages merged into one frame with '\n'), holding idle connections to
// weigh the server's memory per connection, opening and closing connections
// at a rate to time handshakes, reading the server's CPU and memory from
// /proc, and summarising JSON results into a table. It owns no server code.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Result is the outcome of one run. Times are in seconds or milliseconds as
// named; fields that need Config.PID are null without it.
type Result struct {
	Name     string  `json:"name,omitempty"`   // label of the case, set by the caller
	Server   string  `json:"server,omitempty"` // label of the server, set by the caller
	Scenario string  `json:"scenario"`
	Proto    string  `json:"proto"`      // plain or json
	URL      string  `json:"url"`        // with the room added (rooms: the first room's)
	Room     string  `json:"room"`       // rooms: the prefix of the rooms' names
	Conns    int     `json:"conns"`      // requested (churn: most open at once)
	Open     int     `json:"conns_open"` // opened (churn: most open at once)
	Senders  int     `json:"senders"`
	Rate     float64 `json:"rate"` // requested messages/s (rooms: per room; churn: connects/s), 0 = window (churn: unpaced)
	Window   int     `json:"window,omitempty"`
	Rooms    int     `json:"rooms,omitempty"`   // rooms: how many
	Members  int     `json:"members,omitempty"` // rooms: connections per room
	Size     int     `json:"size"`
	ConnectS float64 `json:"connect_s"`  // time to open all connections
	ReadyS   float64 `json:"ready_s"`    // then until all received a probe
	Duration float64 `json:"duration_s"` // measured interval
	DrainS   float64 `json:"drain_s"`    // time waited for the last deliveries
	// Outstanding is how many deliveries (of all messages, warmup included)
	// had not arrived when the drain ended; the close handshake that follows
	// may still bring some of them.
	Outstanding int64 `json:"outstanding_after_drain"`

	Sent       int64   `json:"sent"` // messages sent in the measured interval
	SentPerSec float64 `json:"sent_per_sec"`
	Delivered  int64   `json:"delivered"` // of those, deliveries to other clients
	Expected   int64   `json:"expected"`  // sent * (conns_open - 1); rooms: summed per room
	Lost       int64   `json:"lost"`      // expected - delivered
	// LostReceivers is how many receivers missed at least one message
	// (warmup included), and LostMax the most that one receiver missed.
	LostReceivers    int     `json:"lost_receivers"`
	LostMax          int64   `json:"lost_max_per_receiver"`
	Duplicates       int64   `json:"duplicates"`
	OutOfOrder       int64   `json:"out_of_order"`
	Echoes           int64   `json:"echoes"` // own messages received back
	Other            int64   `json:"other"`  // lines (JSON: events) that are not this run's
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	// Misrouted counts this run's messages and probes received from another
	// room's sender (rooms): a server that ignores ?room= has them all.
	Misrouted int64 `json:"misrouted,omitempty"`
	// Acks is how many of the messages sent in the measured interval the
	// server acknowledged (JSON).
	Acks int64 `json:"acks"`

	LatencyP50     float64 `json:"latency_p50_ms"`
	LatencyP90     float64 `json:"latency_p90_ms"`
	LatencyP99     float64 `json:"latency_p99_ms"`
	LatencyMax     float64 `json:"latency_max_ms"`
	LatencySamples int     `json:"latency_samples"`

	// RoomsWithLoss is how many rooms lost at least one measured delivery,
	// and PerRoom the figures of each room (rooms).
	RoomsWithLoss int          `json:"rooms_with_loss,omitempty"`
	PerRoom       []RoomResult `json:"per_room,omitempty"`

	// Churn: handshakes started in the measured interval, those that
	// completed, per second, and how long they took (TCP connect plus
	// WebSocket handshake); HoldS is Config.Hold.
	Attempts         int64   `json:"connect_attempts,omitempty"`
	Connects         int64   `json:"connects,omitempty"`
	ConnectsPerSec   float64 `json:"connects_per_sec,omitempty"`
	HoldS            float64 `json:"hold_s,omitempty"`
	HandshakeP50     float64 `json:"handshake_p50_ms,omitempty"`
	HandshakeP90     float64 `json:"handshake_p90_ms,omitempty"`
	HandshakeP99     float64 `json:"handshake_p99_ms,omitempty"`
	HandshakeMax     float64 `json:"handshake_max_ms,omitempty"`
	HandshakeSamples int     `json:"handshake_samples,omitempty"`

	// Errors is connect_errors + not_ready + disconnects + write_errors +
	// server_errors + close_errors + misrouted.
	Errors        int `json:"errors"`
	ConnectErrors int `json:"connect_errors"`
	NotReady      int `json:"not_ready"`   // open but never got a probe
	Disconnects   int `json:"disconnects"` // ended by the server before we closed
	WriteErrors   int `json:"write_errors"`
	// ServerErrors counts the error events received (JSON), all phases;
	// ServerError is the first of them.
	ServerErrors int `json:"server_errors"`
	// CloseErrors counts churn connections that got no answer to their
	// close frame within 3s.
	CloseErrors int            `json:"close_errors,omitempty"`
	ServerError string         `json:"server_error,omitempty"`
	ErrorDetail map[string]int `json:"error_detail,omitempty"`

	ServerCPU     *float64 `json:"server_cpu_pct"`     // percent of one core
	ServerRSS     *int64   `json:"server_rss_bytes"`   // VmRSS at the end
	RSSPerConn    *float64 `json:"rss_per_conn_bytes"` // idle
	ClientCPU     float64  `json:"client_cpu_pct"`     // this tool, percent of one core
	ClientMaxRSS  int64    `json:"client_max_rss_bytes"`
	ServerProcErr string   `json:"server_proc_error,omitempty"`
}

// RoomResult is what one room of the rooms scenario got: Open connections,
// Sent messages in the measured interval, Delivered of Expected
// (sent * (open - 1)) deliveries.
type RoomResult struct {
	Room      string `json:"room"`
	Open      int    `json:"open"`
	Sent      int64  `json:"sent"`
	Delivered int64  `json:"delivered"`
	Expected  int64  `json:"expected"`
	Lost      int64  `json:"lost"`
}

// senderState holds the shared counters of one sender, padded so that two
// senders do not share a cache line.
type senderState struct {
	sent     atomic.Int64 // messages written (all phases)
	expected atomic.Int64 // deliveries the window waits for
	// firstMeasured is the seq of the sender's first message of the
	// measured interval, 0 until it is sent.
	firstMeasured atomic.Int64
	_             [40]byte
	delivered     atomic.Int64 // deliveries received (all phases)
	_             [56]byte
}

// run is the shared state of one Run.
type run struct {
	cfg       Config
	netDial   func(i int) func(context.Context, string, string) (net.Conn, error)
	nSenders  int
	sampleCap int
	senders   []senderState
	// tag is this run's random number, in every message and probe, so that
	// traffic of another run on the same server counts as "other".
	tag int64
	// probe starts the lines that check that the server broadcasts to every
	// connection before sending starts.
	probe []byte
	// json: JSON mode, where each text goes between its group's sendPrefix
	// and sendSuffix; both are empty in plain mode.
	json       bool
	sendSuffix []byte
	// groups are the rooms of the rooms scenario, else one group of all
	// connections; rooms is set for the rooms scenario.
	groups []group
	rooms  bool
	// measuredSent is, per sender, the messages sent in the measured
	// interval, set when sending is over.
	measuredSent []int64

	// Messages stamped in [mStart, mEnd) are measured.
	mStart, mEnd atomic.Int64

	live        atomic.Int64 // connections open and not ended by the server
	peak        atomic.Int64 // the most that live was
	dials       atomic.Int64 // connections opened, all phases
	connectErrs atomic.Int64 // churn: connections that failed to open
	closeErrs   atomic.Int64 // churn: closes that got no answer
	disconnects atomic.Int64
	writeErrs   atomic.Int64
	readers     sync.WaitGroup
	errs        errorLog
}

// group is one room of the rooms scenario, or all connections of the others.
type group struct {
	url        string
	sendPrefix []byte       // JSON: what comes before a text in a send request
	live       atomic.Int64 // its connections open and not ended by the server
}

// errorLog counts errors by kind.
type errorLog struct {
	mu sync.Mutex
	m  map[string]int
}

const maxErrorKinds = 20

func (l *errorLog) add(prefix string, err error) {
	l.addN(prefix+errKey(err), 1)
}

func (l *errorLog) addN(key string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]int)
	}
	if _, ok := l.m[key]; !ok && len(l.m) >= maxErrorKinds {
		key = "other errors"
	}
	l.m[key] += n
}

// errKey drops addresses and call names from network errors so that errors
// of one kind share a key.
func errKey(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

func (l *errorLog) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) == 0 {
		return nil
	}
	m := make(map[string]int, len(l.m))
	for k, v := range l.m {
		m[k] = v
	}
	return m
}

func (r *run) totals() (sent, delivered, expected int64) {
	for i := range r.senders {
		s := &r.senders[i]
		sent += s.sent.Load()
		delivered += s.delivered.Load()
		expected += s.expected.Load()
	}
	return sent, delivered, expected
}

// Run runs the scenario of cfg against cfg.URL and returns its figures. It
// writes a progress line to progress once a second unless progress is nil.
// When ctx ends early, Run stops, closes its connections and returns what it
// has with ctx's error.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	nd, err := netDialer(cfg.URL, cfg.Sources)
	if err != nil {
		return Result{}, err
	}
	urls, err := cfg.roomURLs()
	if err != nil {
		return Result{}, err
	}
	r := &run{cfg: cfg, netDial: nd, tag: rand.Int64N(1 << 31)}
	r.probe = fmt.Appendf(nil, "chatbench probe %d ", r.tag)
	r.rooms = cfg.Scenario == ScenarioRooms
	r.groups = make([]group, len(urls))
	for g, u := range urls {
		r.groups[g].url = u
	}
	if cfg.Proto == ProtoJSON {
		r.json = true
		r.sendSuffix = sendSuffix
		for g := range r.groups {
			room := cfg.Room
			if r.rooms {
				room = roomName(cfg.Room, g)
			}
			r.groups[g].sendPrefix = sendPrefix(room)
		}
	}
	switch cfg.Scenario {
	case ScenarioFanout:
		r.nSenders = cfg.Senders
	case ScenarioRooms:
		r.nSenders = cfg.Rooms
	}
	r.senders = make([]senderState, r.nSenders)
	r.sampleCap = max(cfg.MaxSamples/cfg.Conns, 16)
	r.mStart.Store(math.MaxInt64)
	r.mEnd.Store(math.MaxInt64)

	res := Result{
		Scenario: cfg.Scenario,
		Proto:    cfg.Proto,
		URL:      urls[0],
		Room:     cfg.Room,
		Conns:    cfg.Conns,
		Size:     cfg.Size,
	}
	switch cfg.Scenario {
	case ScenarioFanout, ScenarioRooms:
		res.Senders = r.nSenders
		res.Rate = cfg.Rate
		if cfg.Rate == 0 {
			res.Window = cfg.Window
		}
		if r.rooms {
			res.Rooms, res.Members = cfg.Rooms, cfg.Members
		}
	case ScenarioChurn:
		res.Rate = cfg.Rate
		res.HoldS = cfg.Hold.Seconds()
	}

	var phase atomic.Value
	phase.Store("connect")
	stopProgress := r.startProgress(progress, &phase)
	defer stopProgress()

	var rssBefore int64
	var rssErr error
	if cfg.PID != 0 && cfg.Scenario == ScenarioIdle {
		rssBefore, rssErr = procRSS(cfg.PID)
	}

	if cfg.Scenario == ScenarioChurn {
		phase.Store("churn")
		runErr := r.churn(ctx, &res, &phase)
		phase.Store("close")
		r.results(nil, &res)
		res.ClientMaxRSS = selfMaxRSS()
		return res, runErr
	}

	t := time.Now()
	clients, connectErrs := r.connectAll(ctx)
	res.ConnectS = time.Since(t).Seconds()
	res.Open = len(clients)
	res.ConnectErrors = connectErrs

	var runErr error
	switch {
	case ctx.Err() != nil:
		runErr = ctx.Err()
	case len(clients) == 0:
		runErr = errors.New("no connection could be opened")
	case cfg.Scenario == ScenarioFanout && len(clients) < 2:
		runErr = errors.New("fanout needs at least 2 open connections")
	case cfg.Scenario == ScenarioFanout || cfg.Scenario == ScenarioRooms:
		phase.Store("ready")
		t := time.Now()
		res.NotReady = r.waitReady(ctx, clients)
		res.ReadyS = time.Since(t).Seconds()
		phase.Store("send")
		runErr = r.fanout(ctx, clients, &res, &phase)
	default:
		phase.Store("idle")
		runErr = r.idle(ctx, clients, &res, rssBefore, rssErr)
	}

	phase.Store("close")
	r.closeAll(clients)
	r.results(clients, &res)
	res.ClientMaxRSS = selfMaxRSS()
	return res, runErr
}

// connectAll opens cfg.Conns connections, DialConcurrency at a time, and
// returns those that opened, in order.
func (r *run) connectAll(ctx context.Context) ([]*client, int) {
	all := make([]*client, r.cfg.Conns)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.DialConcurrency, r.cfg.Conns) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(all) {
					return
				}
				c, err := r.dial(ctx, i)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
						r.errs.add("connect: ", err)
					}
					continue
				}
				all[i] = c
			}
		})
	}
	wg.Wait()
	open := slices.DeleteFunc(all, func(c *client) bool { return c == nil })
	return open, int(failed.Load())
}

// openPerGroup returns how many of clients are in each group.
func (r *run) openPerGroup(clients []*client) []int {
	open := make([]int, len(r.groups))
	for _, c := range clients {
		open[c.group]++
	}
	return open
}

// waitReady makes sure that the server broadcasts to every connection before
// sending starts: a server may answer the handshake before it has subscribed
// the connection, and under load the gap can be long enough to miss the first
// messages. The first two connections of each group (room) send probes, each
// received by all the others of the group, again every half second, until
// every connection has received one or ConnectTimeout has passed. It returns
// how many never received one. Connections alone in their room are left
// out: nobody sends to them.
func (r *run) waitReady(ctx context.Context, clients []*client) int {
	open := r.openPerGroup(clients)
	probing := make([]int, len(r.groups))
	var probers, waiting []*client
	for _, c := range clients {
		if open[c.group] < 2 {
			continue
		}
		waiting = append(waiting, c)
		if probing[c.group] < 2 {
			probing[c.group]++
			probers = append(probers, c)
		}
	}
	deadline := time.Now().Add(r.cfg.ConnectTimeout)
	for k := 0; ; k++ {
		for _, c := range probers {
			c.sendProbe(k)
		}
		resend := time.Now().Add(500 * time.Millisecond)
		for {
			missing := 0
			for _, c := range waiting {
				if !c.ready.Load() && !c.dead.Load() {
					missing++
				}
			}
			now := time.Now()
			if missing == 0 || now.After(deadline) || ctx.Err() != nil {
				if missing > 0 && ctx.Err() == nil {
					r.errs.addN("not receiving broadcasts after connect_timeout", missing)
				}
				return missing
			}
			if now.After(resend) {
				break
			}
			sleepUntil(ctx, nil, now.Add(5*time.Millisecond))
		}
	}
}

// catchUp is how far a paced loop (sendLoop, churn) may fall behind its
// schedule and still do at once what is due; beyond it, it skips the
// missed slots.
const catchUp = 100 * time.Millisecond

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

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for j, c := range senders {
		id := int(c.senderID.Load())
		s := newSender(c, id, cfg.Size)
		first := t0.Add(interval * time.Duration(j) / time.Duration(len(senders)))
		wg.Go(func() {
			r.measuredSent[id] = r.sendLoop(ctx, stop, s, interval, own, first, mStart, mEnd)
		})
	}

	if cfg.Warmup > 0 {
		phase.Store("warmup")
		if !sleepUntil(ctx, nil, mStart) {
			close(stop)
			wg.Wait()
			return ctx.Err()
		}
		phase.Store("send")
	}
	meter := startCPU(cfg.PID)
	sleepUntil(ctx, nil, mEnd)
	close(stop)
	wg.Wait()
	end := time.Now()
	if end.After(mEnd) {
		end = mEnd
	}
	clientCPU, serverCPU, perr := meter.stop()
	if perr != nil {
		res.ServerProcErr = perr.Error()
	}
	res.ClientCPU = clientCPU
	res.ServerCPU = serverCPU
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
	if cfg.PID != 0 {
		rss, err := procRSS(cfg.PID)
		if err == nil {
			res.ServerRSS = &rss
		}
	}
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

func (r *run) idle(ctx context.Context, clients []*client, res *Result, rssBefore int64, rssErr error) error {
	cfg := r.cfg
	t0 := time.Now()
	meter := startCPU(cfg.PID)
	ok := sleepUntil(ctx, nil, t0.Add(cfg.Settle))
	if ok && cfg.PID != 0 {
		after, err := procRSS(cfg.PID)
		if err == nil && rssErr == nil {
			v := float64(after-rssBefore) / float64(len(clients))
			res.RSSPerConn = &v
		} else {
			res.ServerProcErr = errors.Join(rssErr, err).Error()
		}
	}
	if ok {
		sleepUntil(ctx, nil, t0.Add(cfg.Duration))
	}
	clientCPU, serverCPU, perr := meter.stop()
	if perr != nil {
		res.ServerProcErr = perr.Error()
	}
	res.ClientCPU = clientCPU
	res.ServerCPU = serverCPU
	res.Duration = time.Since(t0).Seconds()
	if cfg.PID != 0 {
		rss, err := procRSS(cfg.PID)
		if err == nil {
			res.ServerRSS = &rss
		}
	}
	return ctx.Err()
}

// closeAll closes every connection with a close handshake, bounded in time.
func (r *run) closeAll(clients []*client) {
	work := make(chan *client)
	var wg sync.WaitGroup
	for range min(r.cfg.DialConcurrency, len(clients)) {
		wg.Go(func() {
			for c := range work {
				c.startClose()
			}
		})
	}
	for _, c := range clients {
		work <- c
	}
	close(work)
	wg.Wait()

	// Wait for the server's answers, then close what is left.
	timeout := time.NewTimer(3 * time.Second)
	defer timeout.Stop()
wait:
	for _, c := range clients {
		select {
		case <-c.done:
		case <-timeout.C:
			break wait
		}
	}
	for _, c := range clients {
		c.conn.Close()
	}
	r.readers.Wait()
}

// results merges the receivers' counters and latency samples into res.
// The reader goroutines must have returned.
func (r *run) results(clients []*client, res *Result) {
	var st recvStats
	n := 0
	for _, c := range clients {
		st.delivered += c.st.delivered
		st.duplicates += c.st.duplicates
		st.outOfOrder += c.st.outOfOrder
		st.echoes += c.st.echoes
		st.other += c.st.other
		st.misrouted += c.st.misrouted
		st.acks += c.st.acks
		st.serverErrors += c.st.serverErrors
		st.maxLatency = max(st.maxLatency, c.st.maxLatency)
		n += len(c.samples)
	}
	var firstErrAt int64
	for _, c := range clients {
		if c.firstErr != "" && (res.ServerError == "" || c.firstErrAt < firstErrAt) {
			res.ServerError, firstErrAt = c.firstErr, c.firstErrAt
		}
		for code, n := range c.errCodes {
			r.errs.addN("server error: "+orDash(code), int(*n))
		}
	}
	samples := make([]int64, 0, n)
	for _, c := range clients {
		samples = append(samples, c.samples...)
		c.samples = nil
	}
	slices.Sort(samples)

	for _, c := range clients {
		self := int(c.senderID.Load())
		var missing int64
		for k, n := range c.recv {
			if s := c.sLo + k; s != self {
				missing += r.senders[s].sent.Load() - n
			}
		}
		if missing > 0 {
			res.LostReceivers++
			res.LostMax = max(res.LostMax, missing)
		}
	}

	res.Delivered = st.delivered
	res.Duplicates = st.duplicates
	res.OutOfOrder = st.outOfOrder
	res.Echoes = st.echoes
	res.Other = st.other
	res.Misrouted = st.misrouted
	if st.misrouted > 0 {
		r.errs.addN("messages from another room", int(st.misrouted))
	}
	if r.rooms {
		r.roomResults(clients, res)
	}
	res.Acks = st.acks
	res.ServerErrors = int(st.serverErrors)
	res.Lost = res.Expected - res.Delivered
	if res.Duration > 0 {
		res.DeliveriesPerSec = float64(res.Delivered) / res.Duration
		res.SentPerSec = float64(res.Sent) / res.Duration
	}
	res.LatencySamples = len(samples)
	res.LatencyP50 = ms(percentile(samples, 0.50))
	res.LatencyP90 = ms(percentile(samples, 0.90))
	res.LatencyP99 = ms(percentile(samples, 0.99))
	res.LatencyMax = ms(st.maxLatency)

	res.Disconnects = int(r.disconnects.Load())
	res.WriteErrors = int(r.writeErrs.Load())
	res.Errors = res.ConnectErrors + res.NotReady + res.Disconnects + res.WriteErrors +
		res.ServerErrors + res.CloseErrors + int(res.Misrouted)
	res.ErrorDetail = r.errs.snapshot()
}

// roomResults fills in res.PerRoom and res.RoomsWithLoss.
func (r *run) roomResults(clients []*client, res *Result) {
	rooms := make([]RoomResult, len(r.groups))
	for g := range rooms {
		rooms[g].Room = roomName(r.cfg.Room, g)
	}
	for _, c := range clients {
		rm := &rooms[c.group]
		rm.Open++
		rm.Delivered += c.st.delivered
	}
	for g := range rooms {
		rm := &rooms[g]
		if g < len(r.measuredSent) {
			rm.Sent = r.measuredSent[g]
		}
		rm.Expected = rm.Sent * int64(max(rm.Open-1, 0))
		rm.Lost = rm.Expected - rm.Delivered
		if rm.Lost > 0 {
			res.RoomsWithLoss++
		}
	}
	res.PerRoom = rooms
}

// percentile returns the nearest-rank p-quantile of sorted s.
func percentile(s []int64, p float64) int64 {
	if len(s) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(ns int64) float64 {
	return math.Round(float64(ns)/1e3) / 1e3
}

// startProgress prints a line a second to w until the returned function is
// called.
func (r *run) startProgress(w io.Writer, phase *atomic.Value) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		t0 := time.Now()
		var lastD int64
		for {
			select {
			case <-done:
				return
			case now := <-tk.C:
				if r.cfg.Scenario == ScenarioChurn {
					d := r.dials.Load()
					fmt.Fprintf(w, "%5.0fs %-7s open=%d/%d connects=%d %d/s errors=%d\n",
						now.Sub(t0).Seconds(), phase.Load(), r.live.Load(), r.cfg.Conns,
						d, d-lastD, r.connectErrs.Load()+r.closeErrs.Load()+r.disconnects.Load())
					lastD = d
					continue
				}
				sent, d, _ := r.totals()
				rooms := ""
				if r.rooms {
					rooms = fmt.Sprintf(" rooms=%d", len(r.groups))
				}
				fmt.Fprintf(w, "%5.0fs %-7s conns=%d/%d%s sent=%d delivered=%d %d/s\n",
					now.Sub(t0).Seconds(), phase.Load(), r.live.Load(), r.cfg.Conns,
					rooms, sent, d, d-lastD)
				lastD = d
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FormatText writes res as a readable table.
func FormatText(w io.Writer, res Result) {
	var b strings.Builder
	row := func(k, format string, a ...any) {
		fmt.Fprintf(&b, "%-20s "+format+"\n", append([]any{k}, a...)...)
	}
	rooms := res.Scenario == ScenarioRooms
	sends := res.Scenario == ScenarioFanout || rooms
	row("scenario", "%s", res.Scenario)
	room := orDash(res.Room)
	if rooms {
		room = fmt.Sprintf("%s-0 .. %s-%d", res.Room, res.Room, max(res.Rooms-1, 0))
	}
	if res.Proto == ProtoJSON {
		row("protocol", "json (%s), room %s", Subprotocol, room)
	} else {
		row("protocol", "plain, room %s", room)
	}
	row("url", "%s", res.URL)
	switch {
	case res.Scenario == ScenarioChurn:
		row("conns", "at most %d open at once (%d were)", res.Conns, res.Open)
		if res.Rate > 0 {
			row("target", "%g connects/s, each held %gs", res.Rate, res.HoldS)
		} else {
			row("target", "as many connects as %d at a time allow, each held %gs", res.Conns, res.HoldS)
		}
		row("measured", "%.2fs (+%.2fs for the last to close)", res.Duration, res.DrainS)
		row("connects", "%d of %d attempts (%.1f/s)", res.Connects, res.Attempts, res.ConnectsPerSec)
		row("handshake ms", "p50 %.3f  p90 %.3f  p99 %.3f  max %.3f (%d samples)",
			res.HandshakeP50, res.HandshakeP90, res.HandshakeP99, res.HandshakeMax, res.HandshakeSamples)
	case rooms:
		row("rooms", "%d, %d members each (%d connections)", res.Rooms, res.Members, res.Conns)
		row("conns", "%d open of %d (connected in %.2fs)", res.Open, res.Conns, res.ConnectS)
	default:
		row("conns", "%d open of %d (connected in %.2fs)", res.Open, res.Conns, res.ConnectS)
	}
	if sends {
		row("ready", "all receiving %.2fs later (%d never)", res.ReadyS, res.NotReady)
		switch {
		case rooms && res.Rate > 0:
			row("senders", "%d, one per room, at %g msg/s each, %d bytes", res.Senders, res.Rate, res.Size)
		case rooms:
			row("senders", "%d, one per room, window %d msgs, %d bytes", res.Senders, res.Window, res.Size)
		case res.Rate > 0:
			row("senders", "%d at %g msg/s total, %d bytes", res.Senders, res.Rate, res.Size)
		default:
			row("senders", "%d, window %d msgs, %d bytes", res.Senders, res.Window, res.Size)
		}
		row("measured", "%.2fs (+%.2fs drain)", res.Duration, res.DrainS)
		if res.Outstanding > 0 {
			row("after drain", "%d deliveries still outstanding", res.Outstanding)
		}
		row("sent", "%d (%.1f/s)", res.Sent, res.SentPerSec)
		row("delivered", "%d of %d expected (%.0f/s)", res.Delivered, res.Expected, res.DeliveriesPerSec)
		row("lost", "%d (%d receivers missed some, at most %d each)", res.Lost, res.LostReceivers, res.LostMax)
		if rooms {
			formatRooms(row, res)
		}
		row("duplicates", "%d", res.Duplicates)
		row("out of order", "%d", res.OutOfOrder)
		row("echoes", "%d", res.Echoes)
		if res.Proto == ProtoJSON {
			row("acks", "%d of %d sent", res.Acks, res.Sent)
		}
		row("latency ms", "p50 %.3f  p90 %.3f  p99 %.3f  max %.3f (%d samples)",
			res.LatencyP50, res.LatencyP90, res.LatencyP99, res.LatencyMax, res.LatencySamples)
	} else if res.Scenario == ScenarioIdle {
		row("held", "%.2fs", res.Duration)
	}
	if res.Other > 0 {
		row("other lines", "%d", res.Other)
	}
	if res.Scenario == ScenarioChurn {
		row("errors", "%d (connect %d, disconnects %d, close %d, server %d)",
			res.Errors, res.ConnectErrors, res.Disconnects, res.CloseErrors, res.ServerErrors)
	} else {
		misrouted := ""
		if rooms {
			misrouted = fmt.Sprintf(", from another room %d", res.Misrouted)
		}
		row("errors", "%d (connect %d, not ready %d, disconnects %d, write %d, server %d%s)",
			res.Errors, res.ConnectErrors, res.NotReady, res.Disconnects, res.WriteErrors, res.ServerErrors, misrouted)
	}
	if res.ServerError != "" {
		row("first server error", "%s", res.ServerError)
	}
	for _, k := range sortedKeys(res.ErrorDetail) {
		row("", "%6d %s", res.ErrorDetail[k], k)
	}
	if res.ServerCPU != nil {
		row("server cpu", "%.1f%% of one core", *res.ServerCPU)
	}
	if res.ServerRSS != nil {
		row("server rss", "%.1f MiB", float64(*res.ServerRSS)/(1<<20))
	}
	if res.RSSPerConn != nil {
		row("server rss/conn", "%.0f bytes", *res.RSSPerConn)
	}
	if res.ServerProcErr != "" {
		row("server /proc", "%s", res.ServerProcErr)
	}
	row("client cpu", "%.1f%% of one core (max rss %.1f MiB)", res.ClientCPU, float64(res.ClientMaxRSS)/(1<<20))
	io.WriteString(w, b.String())
}

// formatRooms writes the per-room rows of a rooms result: the spread of the
// rooms' delivered fractions and the rooms that lost most.
func formatRooms(row func(k, format string, a ...any), res Result) {
	if len(res.PerRoom) == 0 {
		return
	}
	frac := func(rm RoomResult) float64 {
		if rm.Expected == 0 {
			return 1
		}
		return float64(rm.Delivered) / float64(rm.Expected)
	}
	lo, hi := res.PerRoom[0], res.PerRoom[0]
	for _, rm := range res.PerRoom {
		if frac(rm) < frac(lo) {
			lo = rm
		}
		if frac(rm) > frac(hi) {
			hi = rm
		}
	}
	row("per room", "delivered %.1f%% (%s) to %.1f%% (%s) of expected; %d rooms lost some",
		100*frac(lo), lo.Room, 100*frac(hi), hi.Room, res.RoomsWithLoss)
	lossy := slices.Clone(res.PerRoom)
	lossy = slices.DeleteFunc(lossy, func(rm RoomResult) bool { return rm.Lost <= 0 })
	slices.SortStableFunc(lossy, func(a, b RoomResult) int { return cmp.Compare(b.Lost, a.Lost) })
	for _, rm := range lossy[:min(len(lossy), 5)] {
		row("", "%s: %d open, sent %d, delivered %d of %d", rm.Room, rm.Open, rm.Sent, rm.Delivered, rm.Expected)
	}
}
