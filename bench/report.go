package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

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
	r.stormResults(clients, res)

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
	switch res.Proto {
	case ProtoJSON:
		row("protocol", "json (%s), room %s", Subprotocol, room)
	case ProtoCentrifugo:
		row("protocol", "centrifugo (JSON), channel %s", room)
	default:
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
	if res.ConnectServerCPUS != nil {
		row("connect cpu", "server %.2fs while the connections opened", *res.ConnectServerCPUS)
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
		if res.Proto != ProtoPlain {
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
	_, _ = io.WriteString(w, b.String()) // a report to a failing writer is lost either way
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
