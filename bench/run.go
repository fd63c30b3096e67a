package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

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
	cfg Config
	// netDial has a dialer per URL of the run (node of a cluster).
	netDial   []func(i int) func(context.Context, string, string) (net.Conn, error)
	procs     procs
	nSenders  int
	sampleCap int
	senders   []senderState
	// tag is this run's random number, in every message and probe, so that
	// traffic of another run on the same server counts as "other".
	tag int64
	// probe starts the lines that check that the server broadcasts to every
	// connection before sending starts.
	probe []byte
	// json: JSON or Centrifugo mode, where each text goes between its
	// group's sendPrefix and sendSuffix; both are empty in plain mode.
	json       bool
	centrifugo bool // Centrifugo mode
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

	storm stormState

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
	urls       []string     // one per node; the group's connections take them in turn
	sendPrefix []byte       // JSON: what comes before a text in a send request
	room       []byte       // JSON: the room, which events name in any case
	hello      []byte       // Centrifugo: the connect and subscribe commands
	live       atomic.Int64 // its connections open and not ended by the server
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
	var nds []func(i int) func(context.Context, string, string) (net.Conn, error)
	for _, u := range cfg.urls {
		nd, err := netDialer(u, cfg.Sources)
		if err != nil {
			return Result{}, err
		}
		nds = append(nds, nd)
	}
	urls, err := cfg.roomURLs()
	if err != nil {
		return Result{}, err
	}
	r := &run{cfg: cfg, netDial: nds, tag: rand.Int64N(1 << 31)}
	r.procs = procs{pids: cfg.PIDs, trees: cfg.PIDTrees}
	r.probe = fmt.Appendf(nil, "chatbench probe %d ", r.tag)
	r.rooms = cfg.Scenario == ScenarioRooms
	r.groups = make([]group, len(urls))
	for g, u := range urls {
		r.groups[g].urls = u
	}
	if cfg.Proto != ProtoPlain {
		r.json = true
		r.centrifugo = cfg.Proto == ProtoCentrifugo
		r.sendSuffix = sendSuffix
		if r.centrifugo {
			r.sendSuffix = centrifugoSendSuffix
		}
		for g := range r.groups {
			room := cfg.Room
			if r.rooms {
				room = roomName(cfg.Room, g)
			}
			r.groups[g].sendPrefix = sendPrefix(room)
			r.groups[g].room = []byte(room)
			if r.centrifugo {
				r.groups[g].sendPrefix = centrifugoSendPrefix(room)
				r.groups[g].hello = centrifugoHello(room)
			}
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
	r.storm.on = cfg.StormAt > 0
	r.storm.start.Store(math.MaxInt64)
	r.storm.window = int64(cfg.StormWindow)
	r.storm.every = int64(cfg.StormEvery)

	res := Result{
		Scenario: cfg.Scenario,
		Proto:    cfg.Proto,
		URL:      strings.Join(urls[0], ","),
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
	if len(r.procs.pids) > 0 && cfg.Scenario == ScenarioIdle {
		rssBefore, rssErr = r.procs.rss()
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
	connectCPU := startCPU(r.procs)
	clients, connectErrs := r.connectAll(ctx)
	res.ConnectS = time.Since(t).Seconds()
	res.ConnectServerCPUS = connectCPU.serverSeconds()
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

func (r *run) idle(ctx context.Context, clients []*client, res *Result, rssBefore int64, rssErr error) error {
	cfg := r.cfg
	t0 := time.Now()
	meter := startCPU(r.procs)
	ok := sleepUntil(ctx, nil, t0.Add(cfg.Settle))
	if ok && len(r.procs.pids) > 0 {
		after, err := r.procs.rss()
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
	meter.stopInto(res)
	res.Duration = time.Since(t0).Seconds()
	recordServerRSS(r.procs, res)
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
