package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/bench"
)

// checkRooms checks the per-room figures of a rooms result: every room
// sent, and got every delivery it should have.
func checkRooms(t *testing.T, res bench.Result) {
	t.Helper()
	if len(res.PerRoom) != res.Rooms || res.Senders != res.Rooms {
		t.Fatalf(
			"%d rooms in per_room, %d senders, want %d",
			len(res.PerRoom), res.Senders, res.Rooms,
		)
	}
	var sent, delivered, expected int64
	for g, rm := range res.PerRoom {
		if want := fmt.Sprintf("bench-%d", g); rm.Room != want || rm.Open != res.Members {
			t.Errorf(
				"room %d: %q with %d open, want %q with %d",
				g, rm.Room, rm.Open, want, res.Members,
			)
		}
		if rm.Sent == 0 || rm.Expected != rm.Sent*int64(res.Members-1) ||
			rm.Delivered != rm.Expected || rm.Lost != 0 {
			t.Errorf(
				"room %s: sent %d, delivered %d of %d, lost %d",
				rm.Room, rm.Sent, rm.Delivered, rm.Expected, rm.Lost,
			)
		}
		sent += rm.Sent
		delivered += rm.Delivered
		expected += rm.Expected
	}
	if sent != res.Sent || delivered != res.Delivered || expected != res.Expected || res.RoomsWithLoss != 0 {
		t.Errorf(
			"rooms add up to sent %d delivered %d expected %d, result has %d %d %d, %d rooms with loss",
			sent, delivered, expected, res.Sent, res.Delivered, res.Expected, res.RoomsWithLoss,
		)
	}
}

func TestRoomsRate(t *testing.T) {
	h := newHub(t, false, false)
	h.byRoom = true
	res := run(t, bench.Config{
		URL:      h.url(),
		Scenario: bench.ScenarioRooms,
		Rooms:    5,
		Members:  4,
		Rate:     100, // per room
		Duration: 500 * time.Millisecond,
		Drain:    2 * time.Second,
	})
	if res.Conns != 20 || res.Rooms != 5 || res.Members != 4 {
		t.Fatalf(
			"conns %d rooms %d members %d, want 20, 5, 4",
			res.Conns, res.Rooms, res.Members,
		)
	}
	checkClean(t, res)
	checkRooms(t, res)
	if res.Misrouted != 0 || res.Other != 0 || res.Duplicates != 0 || res.OutOfOrder != 0 {
		t.Errorf(
			"misrouted %d other %d duplicates %d out of order %d, want 0",
			res.Misrouted, res.Other, res.Duplicates, res.OutOfOrder,
		)
	}
	if res.Sent < 200 || res.Sent > 255 {
		t.Errorf(
			"sent = %d in 0.5s at 100/s in each of 5 rooms",
			res.Sent,
		)
	}
	if !strings.HasSuffix(res.URL, "/ws?room=bench-0") {
		t.Errorf(
			"url %q, want the first room's",
			res.URL,
		)
	}
	if res.LatencySamples != int(res.Delivered) || !(res.LatencyP50 > 0 && res.LatencyP99 <= res.LatencyMax) {
		t.Errorf(
			"latency p50 %v p99 %v max %v ms from %d samples",
			res.LatencyP50, res.LatencyP99, res.LatencyMax, res.LatencySamples,
		)
	}
	h.mu.Lock()
	joins := maps.Clone(h.joins)
	h.mu.Unlock()
	want := map[string]int{"bench-0": 4, "bench-1": 4, "bench-2": 4, "bench-3": 4, "bench-4": 4}
	if !maps.Equal(joins, want) {
		t.Errorf(
			"joins %v, want %v",
			joins, want,
		)
	}
	var out bytes.Buffer
	bench.FormatText(&out, res)
	if !strings.Contains(out.String(), "one per room, at 100 msg/s each") {
		t.Errorf(
			"text output lacks the senders row:\n%s",
			out.String(),
		)
	}
}

// A server that ignores ?room= sends every room's messages to everyone:
// each room still gets its own, and the others' count as misrouted errors.
func TestRoomsIgnoredByServer(t *testing.T) {
	h := newHub(t, false, false)
	res := run(t, bench.Config{
		URL:      h.url(),
		Scenario: bench.ScenarioRooms,
		Rooms:    3,
		Members:  2,
		Rate:     50,
		Duration: 300 * time.Millisecond,
	})
	checkRooms(t, res)
	// Each message reaches the 4 members of the 2 other rooms.
	if res.Misrouted < 4*res.Sent || res.Errors != int(res.Misrouted) ||
		res.ErrorDetail["messages from another room"] != int(res.Misrouted) {
		t.Errorf(
			"misrouted %d (sent %d), errors %d, detail %v: want every other room's messages counted",
			res.Misrouted, res.Sent, res.Errors, res.ErrorDetail,
		)
	}
}

func TestRoomsJSONWindow(t *testing.T) {
	h := newJSONHub(t)
	res := run(t, bench.Config{
		URL:      h.url(),
		Proto:    bench.ProtoJSON,
		Scenario: bench.ScenarioRooms,
		Room:     "r",
		Rooms:    3,
		Members:  3,
		Window:   6,
		Rate:     0,
		Warmup:   100 * time.Millisecond,
		Duration: 300 * time.Millisecond,
	})
	checkClean(t, res)
	if len(res.PerRoom) != 3 || res.PerRoom[2].Room != "r-2" {
		t.Fatalf(
			"per room %+v, want r-0..r-2",
			res.PerRoom,
		)
	}
	if res.Delivered != res.Expected || res.Expected != 2*res.Sent || res.Sent == 0 || res.RoomsWithLoss != 0 {
		t.Errorf(
			"sent %d, delivered %d of %d, %d rooms with loss",
			res.Sent, res.Delivered, res.Expected, res.RoomsWithLoss,
		)
	}
	if res.Acks != res.Sent || res.Window != 6 || res.Misrouted != 0 || res.Other != 0 {
		t.Errorf(
			"acks %d of %d, window %d, misrouted %d, other %d",
			res.Acks, res.Sent, res.Window, res.Misrouted, res.Other,
		)
	}
	if n := h.bad.Load(); n != 0 {
		t.Errorf(
			"%d requests were not sends to the connection's room",
			n,
		)
	}
	h.mu.Lock()
	joins := maps.Clone(h.joins)
	h.mu.Unlock()
	if !maps.Equal(joins, map[string]int{"r-0": 3, "r-1": 3, "r-2": 3}) {
		t.Errorf(
			"joins %v, want 3 in each of r-0..r-2",
			joins,
		)
	}
}

func TestRoomsBadConfig(t *testing.T) {
	for _, cfg := range []bench.Config{
		{Scenario: bench.ScenarioRooms, Rooms: 2, Members: 1},
		{Scenario: bench.ScenarioRooms, Rooms: 2, Members: 3, Conns: 5},
		{Scenario: "nope"},
	} {
		cfg.URL = "ws://127.0.0.1:1/ws"
		if _, err := bench.Run(context.Background(), cfg, nil); err == nil {
			t.Errorf(
				"Run(%+v): no error",
				cfg,
			)
		}
	}
}

// checkHandshakes checks the handshake figures of a churn result.
func checkHandshakes(t *testing.T, res bench.Result) {
	t.Helper()
	if res.HandshakeSamples != int(res.Connects) ||
		!(res.HandshakeP50 > 0 && res.HandshakeP50 <= res.HandshakeP99 &&
			// Longer than the connect timeout (10s) would have failed, so a
			// larger figure means the wrong unit, not a slow machine.
			res.HandshakeP99 <= res.HandshakeMax && res.HandshakeMax <= 10_000) {
		t.Errorf(
			"handshake p50 %v p99 %v max %v ms, %d samples of %d connects: not sane",
			res.HandshakeP50, res.HandshakeP99, res.HandshakeMax, res.HandshakeSamples, res.Connects,
		)
	}
}

func TestChurnRate(t *testing.T) {
	h := newHub(t, false, false)
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := bench.Run(ctx, bench.Config{
		URL:      h.url(),
		Scenario: bench.ScenarioChurn,
		Conns:    5,
		Rate:     100,
		Duration: 1100 * time.Millisecond,
	}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	t.Logf("result: %s", b)
	if res.Errors != 0 || len(res.ErrorDetail) != 0 {
		t.Errorf(
			"errors = %d %v, want none",
			res.Errors, res.ErrorDetail,
		)
	}
	// The pacing may fall behind on a loaded machine (a scheduler that
	// falls behind skips), but never runs ahead of the rate: only the upper
	// bounds are properties of the code, the lower ones of the machine.
	if res.Attempts != res.Connects || res.Connects < 1 || res.Connects > 111 {
		t.Errorf(
			"%d connects of %d attempts in 1.1s at 100/s",
			res.Connects, res.Attempts,
		)
	}
	if res.ConnectsPerSec <= 0 || res.ConnectsPerSec > 101 {
		t.Errorf(
			"connects/s = %v, want more than 0 and at most 100",
			res.ConnectsPerSec,
		)
	}
	checkHandshakes(t, res)
	if res.Open < 1 || res.Open > 5 {
		t.Errorf(
			"at most %d open at once, want 1 to 5",
			res.Open,
		)
	}
	if got := h.accepted.Load(); got != res.Connects {
		t.Errorf(
			"the server accepted %d connections, chatbench counted %d",
			got, res.Connects,
		)
	}
	if left := h.openConns(); left != 0 {
		t.Errorf(
			"%d connections still open on the server after Run",
			left,
		)
	}
	if !strings.Contains(progress.String(), " churn ") || !strings.Contains(progress.String(), "connects=") {
		t.Errorf(
			"progress %q lacks the churn line",
			progress.String(),
		)
	}
}

// Unpaced, with a hold: every one of Conns connections is open at once and
// each opens about Duration/Hold times.
func TestChurnUnpacedHold(t *testing.T) {
	h := newHub(t, false, false)
	res := run(t, bench.Config{
		URL:      h.url(),
		Scenario: bench.ScenarioChurn,
		Proto:    bench.ProtoPlain,
		Conns:    4,
		Rate:     0,
		Hold:     50 * time.Millisecond,
		Warmup:   50 * time.Millisecond,
		Duration: 300 * time.Millisecond,
	})
	if res.Errors != 0 {
		t.Errorf(
			"errors = %d %v",
			res.Errors, res.ErrorDetail,
		)
	}
	if res.Open != 4 || res.HoldS != 0.05 {
		t.Errorf(
			"%d open at once, hold %vs: want 4 and 0.05",
			res.Open, res.HoldS,
		)
	}
	// All four were open at once, so at least four connects; how many more
	// depends on the machine's speed, the upper bound on the hold alone.
	if res.Connects < 4 || res.Connects > 30 {
		t.Errorf(
			"%d connects from 4 connections held 50ms for 300ms",
			res.Connects,
		)
	}
	// The warmup's connections are left out.
	if got := h.accepted.Load(); got <= res.Connects {
		t.Errorf(
			"the server accepted %d connections, %d measured: warmup not left out",
			got, res.Connects,
		)
	}
	checkHandshakes(t, res)
}

func TestChurnServerCloses(t *testing.T) {
	h := newHub(t, false, false)
	h.kickOnJoin = true
	res := run(t, bench.Config{
		URL:      h.url(),
		Scenario: bench.ScenarioChurn,
		Conns:    2,
		Rate:     40,
		Hold:     time.Second,
		Duration: 300 * time.Millisecond,
	})
	// All were closed by the server, but those open when the run ended (at
	// most Conns) may have started closing first.
	n := int(h.accepted.Load())
	if n == 0 || res.Disconnects < n-2 || res.Disconnects > n || res.Errors != res.Disconnects || res.CloseErrors != 0 {
		t.Errorf(
			"disconnects %d errors %d close errors %d, want (nearly) all %d closed by the server",
			res.Disconnects, res.Errors, res.CloseErrors, n,
		)
	}
	if res.ErrorDetail["disconnect: closed by server: 4001 go away"] != res.Disconnects {
		t.Errorf(
			"error detail %v lacks the close code and reason",
			res.ErrorDetail,
		)
	}
	// The server's close ends the hold: more than 2 in 300ms (up to 12).
	if res.Connects < 5 {
		t.Errorf(
			"%d connects: the hold did not end when the server closed",
			res.Connects,
		)
	}
}

func TestChurnConnectFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	res, err := bench.Run(context.Background(), bench.Config{
		URL:            "ws://" + addr + "/ws",
		Scenario:       bench.ScenarioChurn,
		Conns:          3,
		Rate:           50,
		Duration:       200 * time.Millisecond,
		ConnectTimeout: time.Second,
	}, nil)
	if err == nil {
		t.Fatalf(
			"Run against a closed port: no error",
		)
	}
	if res.ConnectErrors < 5 || res.Errors != res.ConnectErrors || res.Connects != 0 || res.Attempts < 5 {
		t.Errorf(
			"connect errors %d errors %d connects %d of %d attempts",
			res.ConnectErrors, res.Errors, res.Connects, res.Attempts,
		)
	}
}

func TestSummarizeRoomsAndChurn(t *testing.T) {
	cpu := 20.0
	lines := []bench.Result{
		{Server: "gorilla", Scenario: "churn", Conns: 50, Rate: 500, ConnectsPerSec: 400, HandshakeP50: 2, HandshakeP99: 8},
		{Server: "chatd", Scenario: "churn", Conns: 50, Rate: 500, ConnectsPerSec: 500, HandshakeP50: 1, HandshakeP99: 2, ServerCPU: &cpu},
		{Server: "chatd", Scenario: "churn", Conns: 50, HoldS: 0.5, ConnectsPerSec: 90},
		{Server: "chatd", Scenario: "rooms", Rooms: 100, Members: 10, Rate: 5, DeliveriesPerSec: 4500, LatencyP50: 1.5},
		{Server: "chatd", Scenario: "rooms", Rooms: 10, Members: 3, Window: 64, DeliveriesPerSec: 9000},
	}
	var in bytes.Buffer
	for _, r := range lines {
		b, _ := json.Marshal(r)
		in.Write(append(b, '\n'))
	}
	var out bytes.Buffer
	if err := bench.Summarize(&out, &in, "gorilla"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log("\n" + got)
	for _, want := range []string{
		"| case | server | runs | deliveries/s | p50 ms | p99 ms | max ms | connects/s | handshake p50 ms | handshake p99 ms | server CPU % |",
		"| churn c50 r500 | gorilla | 1 | - | - | - | - | 400 | 2.000 | 8.000 | - |",
		"| churn c50 r500 | chatd/gorilla |  | - | - | - | - | 1.25x | 0.50x | 0.25x | - |",
		"| churn c50 unpaced hold0.5s | chatd | 1 |",
		"| rooms 100x10 r5 | chatd | 1 | 4500 | 1.500 |",
		"| rooms 10x3 window64 | chatd | 1 | 9000 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf(
				"summary lacks %q",
				want,
			)
		}
	}
	if strings.Contains(got, "RSS/conn") {
		t.Errorf(
			"summary without idle cases has the idle column",
		)
	}
}
