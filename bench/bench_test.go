package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/goleak"

	"github.com/chatd/chatd/bench"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// hub is a tiny broadcast WebSocket server: every text message from one
// client goes to every other client, and to the sender too when echo is set.
// With merge, each client's writer joins the messages queued for it with
// '\n' (like the gorilla chat example), sends the result in fragments of 100
// bytes and slips a ping in between. With byRoom, only clients of the same
// room (the URL's query room) get a message.
type hub struct {
	echo, merge bool
	byRoom      bool
	// kickOnJoin: close every client with 4001 right after the handshake.
	kickOnJoin bool
	// kickAfter > 0: after that many broadcasts, close one client with 4000.
	kickAfter int64
	// joinDelay > 0: every third client is subscribed only that long after
	// its handshake.
	joinDelay time.Duration
	joined    atomic.Int64
	// centrifugo: speak Centrifugo's JSON protocol (centrifugo_test.go).
	centrifugo    bool
	centrifugoErr string // the error every publish gets, if set

	mu     sync.Mutex
	conns  map[*hubConn]struct{}
	wg     sync.WaitGroup
	n      atomic.Int64
	merged atomic.Int64 // frames that carried more than one message
	pongs  atomic.Int64
	// accepted counts the handshakes, joins the clients per room.
	accepted atomic.Int64
	joins    map[string]int
	srv      *httptest.Server
}

type hubConn struct {
	conn       net.Conn
	room       string
	subscribed atomic.Bool // Centrifugo: to its room
	out        chan []byte
	wmu        sync.Mutex
	bw         *bufio.Writer
}

func newHub(t *testing.T, echo, merge bool) *hub {
	h := &hub{echo: echo, merge: merge, conns: map[*hubConn]struct{}{}, joins: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.close)
	return h
}

// openConns returns how many connections the server still holds, once the
// clients' closes have had up to 2s to reach it: the server answers a close
// frame before it forgets the connection.
func (h *hub) openConns() int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.conns)
		h.mu.Unlock()
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *hub) url() string { return "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws" }

func (h *hub) close() {
	h.srv.Close()
	h.mu.Lock()
	for c := range h.conns {
		c.conn.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	// Counted from the start: httptest's Close does not wait for hijacked
	// connections, so close must, and Add must not race with its Wait.
	h.wg.Add(1)
	defer h.wg.Done()
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	h.accepted.Add(1)
	room := r.URL.Query().Get("room")
	c := &hubConn{conn: conn, room: room, out: make(chan []byte, 1<<14), bw: bufio.NewWriter(conn)}
	if h.kickOnJoin {
		c.writeFrame(ws.OpClose, true, ws.NewCloseFrameBody(4001, "go away"))
		conn.Close()
		return
	}
	if h.joinDelay > 0 && h.joined.Add(1)%3 == 0 {
		time.Sleep(h.joinDelay)
	}
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.joins[room]++
	h.mu.Unlock()
	h.wg.Add(1)
	done := make(chan struct{})
	go func() {
		defer h.wg.Done()
		h.writer(c)
		close(done)
	}()
	h.reader(c, rw.Reader)
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	close(c.out)
	<-done
	conn.Close()
}

func (h *hub) reader(c *hubConn, br *bufio.Reader) {
	for {
		hd, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		p := make([]byte, hd.Length)
		_, err = io.ReadFull(br, p)
		if err != nil {
			return
		}
		if hd.Masked {
			ws.Cipher(p, hd.Mask, 0)
		}
		switch hd.OpCode {
		case ws.OpClose:
			c.writeFrame(ws.OpClose, true, p[:min(len(p), 2)])
			return
		case ws.OpPing:
			c.writeFrame(ws.OpPong, true, p)
		case ws.OpPong:
			h.pongs.Add(1)
		case ws.OpText:
			if h.centrifugo {
				h.centrifugoCommands(c, p)
				continue
			}
			h.broadcast(c, p)
		}
	}
}

func (h *hub) broadcast(from *hubConn, p []byte) {
	n := h.n.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	var victim *hubConn
	for c := range h.conns {
		if h.byRoom && c.room != from.room || h.centrifugo && !c.subscribed.Load() {
			continue
		}
		if c != from || h.echo {
			c.out <- p
		}
		if c != from {
			victim = c
		}
	}
	if n == h.kickAfter && victim != nil {
		victim.writeFrame(ws.OpClose, true, ws.NewCloseFrameBody(4000, "kicked"))
		victim.conn.Close()
	}
}

func (c *hubConn) writeFrame(op ws.OpCode, fin bool, p []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ws.WriteHeader(c.bw, ws.Header{Fin: fin, OpCode: op, Length: int64(len(p))})
	c.bw.Write(p)
	c.bw.Flush()
}

func (h *hub) writer(c *hubConn) {
	for p := range c.out {
		if !h.merge {
			c.writeFrame(ws.OpText, true, p)
			continue
		}
		// Let a few messages queue up, then send them all as one message.
		time.Sleep(5 * time.Millisecond)
		msg := append([]byte(nil), p...)
		for more := true; more; {
			select {
			case q, ok := <-c.out:
				if !ok {
					more = false
					break
				}
				msg = append(append(msg, '\n'), q...)
				h.merged.Add(1)
			default:
				more = false
			}
		}
		op := ws.OpText
		for len(msg) > 100 {
			c.writeFrame(op, false, msg[:100])
			msg = msg[100:]
			op = ws.OpContinuation
			c.writeFrame(ws.OpPing, true, []byte("hi"))
		}
		c.writeFrame(op, true, msg)
	}
}

func run(t *testing.T, cfg bench.Config) bench.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var progress bytes.Buffer
	res, err := bench.Run(ctx, cfg, &progress)
	if err != nil {
		t.Fatalf(
			"Run: %v",
			err,
		)
	}
	b, _ := json.Marshal(res)
	t.Logf("result: %s", b)
	return res
}

func checkClean(t *testing.T, res bench.Result) {
	t.Helper()
	if res.Errors != 0 || len(res.ErrorDetail) != 0 {
		t.Errorf(
			"errors = %d %v, want none",
			res.Errors, res.ErrorDetail,
		)
	}
	if res.Open != res.Conns {
		t.Errorf(
			"open = %d, want %d",
			res.Open, res.Conns,
		)
	}
}

func checkDelivered(t *testing.T, res bench.Result) {
	t.Helper()
	if res.Sent == 0 {
		t.Fatalf(
			"sent nothing",
		)
	}
	if res.Expected != res.Sent*int64(res.Conns-1) {
		t.Errorf(
			"expected = %d, want sent*(conns-1) = %d",
			res.Expected, res.Sent*int64(res.Conns-1),
		)
	}
	if res.Delivered != res.Expected || res.Lost != 0 {
		t.Errorf(
			"delivered %d of %d, lost %d",
			res.Delivered, res.Expected, res.Lost,
		)
	}
	if res.Duplicates != 0 || res.OutOfOrder != 0 || res.Other != 0 {
		t.Errorf(
			"duplicates %d, out of order %d, other %d, want 0",
			res.Duplicates, res.OutOfOrder, res.Other,
		)
	}
	if res.LatencySamples != int(res.Delivered) {
		t.Errorf(
			"latency samples = %d, want %d",
			res.LatencySamples, res.Delivered,
		)
	}
	// A message is delivered within the run or counted lost, so no latency
	// can exceed the measured interval and the drain; a tighter bound
	// would measure the machine, not the tool.
	ceiling := (res.Duration + res.DrainS) * 1000
	if !(res.LatencyP50 > 0 && res.LatencyP50 <= res.LatencyP99 &&
		res.LatencyP99 <= res.LatencyMax && res.LatencyMax <= ceiling) {
		t.Errorf(
			"latency p50 %v p99 %v max %v ms is not sane",
			res.LatencyP50, res.LatencyP99, res.LatencyMax,
		)
	}
}

func TestFanoutRate(t *testing.T) {
	h := newHub(t, false, false)
	res := run(t, bench.Config{
		URL:      h.url(),
		Conns:    20,
		Senders:  2,
		Rate:     200,
		Duration: time.Second,
		Drain:    2 * time.Second,
	})
	checkClean(t, res)
	checkDelivered(t, res)
	if res.Proto != "plain" || !strings.HasSuffix(res.URL, "/ws?room=bench") {
		t.Errorf(
			"proto %q url %q, want plain and room=bench added",
			res.Proto, res.URL,
		)
	}
	// The pacer may fall behind on a loaded machine but never ahead.
	if res.Sent > 202 {
		t.Errorf(
			"sent = %d in 1s at rate 200, more than the rate allows",
			res.Sent,
		)
	}
	if res.Echoes != 0 {
		t.Errorf(
			"echoes = %d from a server that does not echo",
			res.Echoes,
		)
	}
	// The rate is delivered over the measured interval, whose length the
	// tool measures; on a loaded machine it runs past the configured
	// second, so the rate is checked against that, not against 200*19.
	if want := float64(res.Delivered) / res.Duration; res.Duration <= 0 || res.DeliveriesPerSec != want {
		t.Errorf(
			"deliveries/s = %v over %vs, want delivered/duration = %v",
			res.DeliveriesPerSec, res.Duration, want,
		)
	}
}

func TestFanoutWindowWithWarmup(t *testing.T) {
	h := newHub(t, false, false)
	res := run(t, bench.Config{
		URL:      h.url(),
		Conns:    10,
		Senders:  3,
		Window:   6,
		Warmup:   200 * time.Millisecond,
		Duration: 500 * time.Millisecond,
		Size:     300, // a 16-bit frame length
	})
	checkClean(t, res)
	checkDelivered(t, res)
	if res.Rate != 0 || res.Window != 6 {
		t.Errorf(
			"rate %v window %d, want 0 and 6",
			res.Rate, res.Window,
		)
	}
	// Warmup messages are left out of sent but were sent all the same.
	if got := h.n.Load(); got <= res.Sent {
		t.Errorf(
			"server saw %d messages, measured %d: warmup not left out",
			got, res.Sent,
		)
	}
}

// TestFrameLengths runs messages whose frames take each form of the
// length, in one frame or fragmented with pings between the fragments, and
// larger than the receivers' read buffer, which they then cannot be handled
// in.
func TestFrameLengths(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		merge bool
	}{
		{"7-bit length", 64, false},
		{"16-bit length", 300, false},
		{"16-bit length, larger than the read buffer", 40_000, false},
		{"64-bit length", 70_000, false},
		{"fragmented", 300, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, false, tc.merge)
			res := run(t, bench.Config{
				URL:      h.url(),
				Conns:    4,
				Senders:  2,
				Window:   4,
				Duration: 300 * time.Millisecond,
				Size:     tc.size,
			})
			checkClean(t, res)
			checkDelivered(t, res)
			if res.Sent == 0 {
				t.Errorf("no message sent")
			}
		})
	}
}

func TestEchoAndMergedLines(t *testing.T) {
	h := newHub(t, true, true)
	res := run(t, bench.Config{
		URL:      h.url(),
		Conns:    20,
		Senders:  2,
		Rate:     400,
		Duration: time.Second,
		Drain:    2 * time.Second,
	})
	checkClean(t, res)
	checkDelivered(t, res)
	if res.Echoes != res.Sent {
		t.Errorf(
			"echoes = %d, want one per message sent (%d)",
			res.Echoes, res.Sent,
		)
	}
	if h.merged.Load() == 0 {
		t.Errorf(
			"the server merged no messages: test does not test merging",
		)
	}
	if h.pongs.Load() == 0 {
		t.Errorf(
			"no pong answered the server's pings",
		)
	}
}

func TestWaitsUntilAllReceive(t *testing.T) {
	h := newHub(t, false, false)
	h.joinDelay = 300 * time.Millisecond
	res := run(t, bench.Config{
		URL:      h.url(),
		Conns:    12,
		Senders:  2,
		Rate:     200,
		Duration: 300 * time.Millisecond,
	})
	checkClean(t, res)
	checkDelivered(t, res)
	if res.ReadyS < 0.2 {
		t.Errorf(
			"ready after %vs, before the late clients joined",
			res.ReadyS,
		)
	}
}

func TestTwoRunsOnOneServer(t *testing.T) {
	h := newHub(t, false, false)
	var wg sync.WaitGroup
	var res [2]bench.Result
	var errs [2]error
	for i := range res {
		wg.Go(func() {
			res[i], errs[i] = bench.Run(context.Background(), bench.Config{
				URL:      h.url(),
				Conns:    10,
				Senders:  2,
				Rate:     200,
				Duration: 500 * time.Millisecond,
			}, nil)
		})
	}
	wg.Wait()
	for i, r := range res {
		if errs[i] != nil {
			t.Fatalf(
				"Run %d: %v",
				i, errs[i],
			)
		}
		checkClean(t, r)
		// Each run's receivers also get the other run's messages and
		// probes: those are "other", not deliveries or duplicates.
		if r.Other == 0 {
			t.Errorf(
				"other = 0: the other run's traffic went unnoticed",
			)
		}
		if r.Delivered != r.Expected || r.Duplicates != 0 || r.OutOfOrder != 0 || r.Echoes != 0 {
			t.Errorf(
				"delivered %d of %d, duplicates %d, out of order %d, echoes %d",
				r.Delivered, r.Expected, r.Duplicates, r.OutOfOrder, r.Echoes,
			)
		}
	}
}

func TestIdle(t *testing.T) {
	h := newHub(t, false, false)
	res := run(t, bench.Config{
		URL:      h.url(),
		Scenario: bench.ScenarioIdle,
		Conns:    200,
		Duration: 300 * time.Millisecond,
		Settle:   100 * time.Millisecond,
		PIDs:     []int{os.Getpid()}, // the server is this process
	})
	checkClean(t, res)
	if res.ServerCPU == nil || res.ServerRSS == nil || res.RSSPerConn == nil || res.ConnectServerCPUS == nil {
		t.Errorf(
			"server cpu %v rss %v rss/conn %v connect cpu %v: want all read from /proc",
			res.ServerCPU, res.ServerRSS, res.RSSPerConn, res.ConnectServerCPUS,
		)
	}
	if res.Sent != 0 || res.Delivered != 0 {
		t.Errorf(
			"idle sent %d delivered %d",
			res.Sent, res.Delivered,
		)
	}
	if left := h.openConns(); left != 0 {
		t.Errorf(
			"%d connections still open on the server after Run",
			left,
		)
	}
}

func TestServerClosesOne(t *testing.T) {
	h := newHub(t, false, false)
	h.kickAfter = 20
	res := run(t, bench.Config{
		URL:      h.url(),
		Conns:    10,
		Senders:  1,
		Rate:     200,
		Duration: 500 * time.Millisecond,
		// The window's accounting of a dead receiver may be off by a
		// message sent while it died: the drain can wait it out.
		Drain: 300 * time.Millisecond,
	})
	if res.Disconnects != 1 || res.Errors != 1 {
		t.Errorf(
			"disconnects %d errors %d, want 1 and 1",
			res.Disconnects, res.Errors,
		)
	}
	if res.ErrorDetail["disconnect: closed by server: 4000 kicked"] != 1 {
		t.Errorf(
			"error detail %v lacks the close code and reason",
			res.ErrorDetail,
		)
	}
	if res.Lost <= 0 || res.Delivered+res.Lost != res.Expected {
		t.Errorf(
			"lost %d delivered %d expected %d: want the kicked client's share lost",
			res.Lost, res.Delivered, res.Expected,
		)
	}
}

func TestConnectFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	res, err := bench.Run(context.Background(), bench.Config{
		URL:            "ws://" + addr + "/ws",
		Conns:          5,
		ConnectTimeout: time.Second,
	}, nil)
	if err == nil {
		t.Fatalf(
			"Run against a closed port: no error",
		)
	}
	if res.ConnectErrors != 5 || res.Errors != 5 {
		t.Errorf(
			"connect errors %d errors %d, want 5",
			res.ConnectErrors, res.Errors,
		)
	}
}

func TestSummarize(t *testing.T) {
	cpu1, cpu2 := 50.0, 25.0
	lines := []bench.Result{
		{Name: "f", Server: "gorilla", Scenario: "fanout", DeliveriesPerSec: 100, LatencyP50: 2, ServerCPU: &cpu1},
		{Name: "f", Server: "chatd", Scenario: "fanout", DeliveriesPerSec: 300, LatencyP50: 1, ServerCPU: &cpu2},
		{Name: "f", Server: "gorilla", Scenario: "fanout", DeliveriesPerSec: 200, LatencyP50: 4, ServerCPU: &cpu1},
		{Name: "f", Server: "gorilla", Scenario: "fanout", DeliveriesPerSec: 900, LatencyP50: 3, ServerCPU: &cpu1},
		{Name: "f", Server: "chatd", Scenario: "fanout", Proto: "json", DeliveriesPerSec: 150},
		{Name: "f-json", Server: "chatd", Scenario: "fanout", Proto: "json", DeliveriesPerSec: 120},
		{Server: "chatd", Scenario: "fanout", Proto: "json", Conns: 5, Senders: 1, Rate: 10, DeliveriesPerSec: 40},
	}
	var in bytes.Buffer
	for _, r := range lines {
		b, _ := json.Marshal(r)
		in.Write(append(b, '\n'))
	}
	var out bytes.Buffer
	err := bench.Summarize(&out, &in, "gorilla")
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log("\n" + got)
	for _, want := range []string{
		"| f | gorilla | 3 | 200 | 3.000 |",
		"| f | chatd | 1 | 300 | 1.000 |",
		"| f | chatd/gorilla |  | 1.50x | 0.33x |",
		"| f json | chatd | 1 | 150 |",
		"| f-json | chatd | 1 | 120 |",
		"| fanout c5 s1 r10 json | chatd | 1 | 40 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf(
				"summary lacks %q",
				want,
			)
		}
	}
}

// jsonHub is a tiny server of the chatd.v1 subset that chatbench speaks: it
// selects the subprotocol, joins each client to the room of its URL query
// (default "lobby"), sends it a welcome and the room's other members a
// presence_diff, answers each send request with an ack (or, for every
// rejectEvery-th message, with a rate_limited error and nothing else) and
// sends a message event to the room's other members.
type jsonHub struct {
	rejectEvery int64

	mu      sync.Mutex
	rooms   map[string]map[*hubConn]bool
	joins   map[string]int // clients that joined each room
	seq     uint64
	wg      sync.WaitGroup
	sends   atomic.Int64 // send requests that are not probes
	bad     atomic.Int64 // requests not of the expected form
	nextID  atomic.Int64
	srv     *httptest.Server
	allConn map[*hubConn]bool
}

func newJSONHub(t *testing.T) *jsonHub {
	h := &jsonHub{
		rooms:   map[string]map[*hubConn]bool{},
		joins:   map[string]int{},
		allConn: map[*hubConn]bool{},
	}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.close)
	return h
}

func (h *jsonHub) url() string { return "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws" }

func (h *jsonHub) close() {
	h.srv.Close()
	h.mu.Lock()
	for c := range h.allConn {
		c.conn.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (h *jsonHub) serve(w http.ResponseWriter, r *http.Request) {
	h.wg.Add(1) // see hub.serve
	defer h.wg.Done()
	up := ws.HTTPUpgrader{Protocol: func(p string) bool { return p == "chatd.v1" }}
	conn, rw, hs, err := up.Upgrade(r, w)
	if err != nil {
		return
	}
	if hs.Protocol != "chatd.v1" {
		conn.Close()
		return
	}
	room := r.URL.Query().Get("room")
	if room == "" {
		room = "lobby"
	}
	name := fmt.Sprintf("guest-%d", h.nextID.Add(1))
	c := &hubConn{conn: conn, out: make(chan []byte, 1<<14), bw: bufio.NewWriter(conn)}
	h.wg.Add(1)
	done := make(chan struct{})
	go func() {
		defer h.wg.Done()
		for p := range c.out {
			c.writeFrame(ws.OpText, true, p)
		}
		close(done)
	}()
	c.out <- mustJSON(map[string]any{
		"type": "welcome", "protocol": "chatd.v1", "name": name, "session": "s" + name,
		"limits": map[string]any{"max_message_bytes": 4096, "max_rooms": 16, "send_rate": 0, "send_burst": 0},
	})
	h.mu.Lock()
	h.allConn[c] = true
	if h.rooms[room] == nil {
		h.rooms[room] = map[*hubConn]bool{}
	}
	presence := mustJSON(map[string]any{"type": "presence_diff", "room": room, "joins": []string{name}, "users": len(h.rooms[room]) + 1})
	for o := range h.rooms[room] {
		o.out <- presence
	}
	h.rooms[room][c] = true
	h.joins[room]++
	h.mu.Unlock()

	h.reader(c, rw.Reader, room, name)

	h.mu.Lock()
	delete(h.rooms[room], c)
	delete(h.allConn, c)
	h.mu.Unlock()
	close(c.out)
	<-done
	conn.Close()
}

func (h *jsonHub) reader(c *hubConn, br *bufio.Reader, room, name string) {
	for {
		hd, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		p := make([]byte, hd.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		if hd.Masked {
			ws.Cipher(p, hd.Mask, 0)
		}
		switch hd.OpCode {
		case ws.OpClose:
			c.writeFrame(ws.OpClose, true, p[:min(len(p), 2)])
			return
		case ws.OpText:
			h.request(c, p, room, name)
		}
	}
}

func (h *jsonHub) request(c *hubConn, p []byte, room, name string) {
	var req struct {
		Type string  `json:"type"`
		Room string  `json:"room"`
		Text *string `json:"text"`
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() ||
		req.Type != "send" || req.Room != room || req.Text == nil {
		h.bad.Add(1)
		c.out <- mustJSON(map[string]any{"type": "error", "code": "bad_request", "message": fmt.Sprintf("bad request %q", p)})
		return
	}
	if !strings.HasPrefix(*req.Text, "chatbench probe ") {
		n := h.sends.Add(1)
		if h.rejectEvery > 0 && n%h.rejectEvery == 0 {
			c.out <- mustJSON(map[string]any{"type": "error", "code": "rate_limited", "message": "slow down"})
			return
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	c.out <- mustJSON(struct {
		Type    string `json:"type"`
		Request string `json:"request"`
		Room    string `json:"room"`
		Seq     uint64 `json:"seq"`
		TS      string `json:"ts"`
	}{"ack", "send", room, h.seq, ts})
	msg := mustJSON(struct {
		Type string `json:"type"`
		Room string `json:"room"`
		Seq  uint64 `json:"seq"`
		From string `json:"from"`
		TS   string `json:"ts"`
		Text string `json:"text"`
	}{"message", room, h.seq, name, ts, *req.Text})
	for o := range h.rooms[room] {
		if o != c {
			o.out <- msg
		}
	}
}

func TestJSONFanout(t *testing.T) {
	h := newJSONHub(t)
	res := run(t, bench.Config{
		URL:      h.url(),
		Proto:    bench.ProtoJSON,
		Conns:    10,
		Senders:  2,
		Rate:     0,
		Window:   8,
		Warmup:   200 * time.Millisecond,
		Duration: 500 * time.Millisecond,
		Size:     200,
	})
	checkClean(t, res)
	checkDelivered(t, res)
	if res.Proto != "json" || res.Room != "bench" || !strings.HasSuffix(res.URL, "/ws?room=bench") {
		t.Errorf(
			"proto %q room %q url %q, want json, bench and the room in the URL",
			res.Proto, res.Room, res.URL,
		)
	}
	if res.Acks != res.Sent || res.ServerErrors != 0 || res.Echoes != 0 {
		t.Errorf(
			"acks %d of %d sent, server errors %d, echoes %d",
			res.Acks, res.Sent, res.ServerErrors, res.Echoes,
		)
	}
	if got := h.sends.Load(); got <= res.Sent {
		t.Errorf(
			"server saw %d messages, measured %d: warmup not left out",
			got, res.Sent,
		)
	}
	if n := h.bad.Load(); n != 0 {
		t.Errorf(
			"%d requests were not of the form {type: send, room, text}",
			n,
		)
	}
	h.mu.Lock()
	joins := maps.Clone(h.joins)
	h.mu.Unlock()
	if !maps.Equal(joins, map[string]int{"bench": 10}) {
		t.Errorf(
			"joins %v, want all 10 in bench",
			joins,
		)
	}
}

func TestJSONServerErrors(t *testing.T) {
	h := newJSONHub(t)
	h.rejectEvery = 10
	res := run(t, bench.Config{
		URL:      h.url() + "?room=Other",
		Proto:    bench.ProtoJSON,
		Conns:    6,
		Senders:  2,
		Rate:     200,
		Duration: 500 * time.Millisecond,
		Drain:    300 * time.Millisecond,
	})
	if res.Room != "Other" || strings.Count(res.URL, "room=") != 1 {
		t.Errorf(
			"room %q url %q, want the URL's room",
			res.Room, res.URL,
		)
	}
	rejected := int64(res.ServerErrors)
	if rejected == 0 || res.Acks+rejected != res.Sent {
		t.Errorf(
			"acks %d + server errors %d, want > 0 and sent = %d",
			res.Acks, rejected, res.Sent,
		)
	}
	if res.Errors != res.ServerErrors || res.ErrorDetail["server error: rate_limited"] != res.ServerErrors {
		t.Errorf(
			"errors %d, detail %v, want all %d server errors, by code",
			res.Errors, res.ErrorDetail, res.ServerErrors,
		)
	}
	if !strings.Contains(res.ServerError, `"code":"rate_limited"`) {
		t.Errorf(
			"server error %q, want the first error event",
			res.ServerError,
		)
	}
	if res.Lost != rejected*int64(res.Conns-1) || res.Delivered+res.Lost != res.Expected || res.Other != 0 {
		t.Errorf(
			"lost %d, delivered %d of %d, other %d: want the rejected messages lost, no more",
			res.Lost, res.Delivered, res.Expected, res.Other,
		)
	}
	h.mu.Lock()
	joins := maps.Clone(h.joins)
	h.mu.Unlock()
	if !maps.Equal(joins, map[string]int{"Other": 6}) {
		t.Errorf(
			"joins %v, want all 6 in Other",
			joins,
		)
	}
}

func TestJSONNeedsSubprotocol(t *testing.T) {
	h := newHub(t, false, false) // plain: selects no subprotocol
	res, err := bench.Run(context.Background(), bench.Config{
		URL:   h.url(),
		Proto: bench.ProtoJSON,
		Conns: 3,
	}, nil)
	if err == nil || res.ConnectErrors != 3 {
		t.Fatalf(
			"err %v, connect errors %d: want all 3 to fail",
			err, res.ConnectErrors,
		)
	}
	for k := range res.ErrorDetail {
		if !strings.Contains(k, "chatd.v1") {
			t.Errorf(
				"error %q does not name the subprotocol",
				k,
			)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []bench.Config{
		{URL: "ws://127.0.0.1:1/ws?room=a", Room: "b"},
		{URL: "ws://127.0.0.1:1/ws?room="},
		{URL: "ws://127.0.0.1:1/ws", Proto: "xml"},
	} {
		if _, err := bench.Run(context.Background(), cfg, nil); err == nil {
			t.Errorf(
				"Run(%+v): no error",
				cfg,
			)
		}
	}
}
