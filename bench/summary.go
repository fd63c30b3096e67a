package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// caseName is the label of res's case: res.Name, or one made of its
// parameters; " json" is added for the JSON protocol unless the name says
// json already.
func caseName(res Result) string {
	name := res.Name
	switch {
	case name != "":
	case res.Scenario == ScenarioIdle:
		name = fmt.Sprintf("idle c%d", res.Conns)
	case res.Scenario == ScenarioChurn:
		name = fmt.Sprintf("churn c%d r%g", res.Conns, res.Rate)
		if res.Rate == 0 {
			name = fmt.Sprintf("churn c%d unpaced", res.Conns)
		}
		if res.HoldS > 0 {
			name += fmt.Sprintf(" hold%gs", res.HoldS)
		}
	case res.Scenario == ScenarioRooms && res.Rate == 0:
		name = fmt.Sprintf("rooms %dx%d window%d", res.Rooms, res.Members, res.Window)
	case res.Scenario == ScenarioRooms:
		name = fmt.Sprintf("rooms %dx%d r%g", res.Rooms, res.Members, res.Rate)
	case res.Rate == 0:
		name = fmt.Sprintf("fanout c%d s%d window%d", res.Conns, res.Senders, res.Window)
	default:
		name = fmt.Sprintf("fanout c%d s%d r%g", res.Conns, res.Senders, res.Rate)
	}
	if res.Proto == ProtoJSON && !strings.Contains(name, ProtoJSON) {
		name += " " + ProtoJSON
	}
	return name
}

// column is one figure of the summary table.
type column struct {
	title string
	// scenarios are those the figure is for; empty: all of them.
	scenarios []string
	get       func(Result) (float64, bool)
	prec      int
}

// applies tells whether c is a figure of scenario.
func (c column) applies(scenario string) bool {
	return len(c.scenarios) == 0 || slices.Contains(c.scenarios, scenario)
}

var (
	sending = []string{ScenarioFanout, ScenarioRooms}
	churn   = []string{ScenarioChurn}
)

var columns = []column{
	{title: "deliveries/s", scenarios: sending, prec: 0, get: func(r Result) (float64, bool) { return r.DeliveriesPerSec, true }},
	{title: "p50 ms", scenarios: sending, prec: 3, get: func(r Result) (float64, bool) { return r.LatencyP50, true }},
	{title: "p99 ms", scenarios: sending, prec: 3, get: func(r Result) (float64, bool) { return r.LatencyP99, true }},
	{title: "max ms", scenarios: sending, prec: 3, get: func(r Result) (float64, bool) { return r.LatencyMax, true }},
	{title: "connects/s", scenarios: churn, prec: 0, get: func(r Result) (float64, bool) { return r.ConnectsPerSec, true }},
	{title: "handshake p50 ms", scenarios: churn, prec: 3, get: func(r Result) (float64, bool) { return r.HandshakeP50, true }},
	{title: "handshake p99 ms", scenarios: churn, prec: 3, get: func(r Result) (float64, bool) { return r.HandshakeP99, true }},
	{title: "server CPU %", prec: 1, get: func(r Result) (float64, bool) { return deref(r.ServerCPU) }},
	{title: "deliveries/CPU-s", scenarios: sending, prec: 0, get: func(r Result) (float64, bool) {
		cpu, ok := deref(r.ServerCPU)
		if !ok || cpu <= 0 {
			return 0, false
		}
		return r.DeliveriesPerSec / (cpu / 100), true
	}},
	{title: "lost", scenarios: sending, prec: 0, get: func(r Result) (float64, bool) { return float64(r.Lost), true }},
	{title: "errors", prec: 0, get: func(r Result) (float64, bool) { return float64(r.Errors), true }},
	{title: "RSS/conn B", scenarios: []string{ScenarioIdle}, prec: 0, get: func(r Result) (float64, bool) { return deref(r.RSSPerConn) }},
	{title: "connect s", scenarios: []string{ScenarioIdle}, prec: 2, get: func(r Result) (float64, bool) { return r.ConnectS, true }},
	{title: "connect server CPU s", scenarios: []string{ScenarioIdle}, prec: 2, get: func(r Result) (float64, bool) { return deref(r.ConnectServerCPUS) }},
	{title: "client CPU %", prec: 1, get: func(r Result) (float64, bool) { return r.ClientCPU, true }},
}

func deref[T int64 | float64](p *T) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return float64(*p), true
}

// Summarize reads Results as JSON lines from in and writes to w a markdown
// table with, per case and server, the median over the runs of each figure,
// and per case a row with the ratio of each other server's medians to those
// of server baseline. The table has the columns of the figures of the
// scenarios it has cases of.
func Summarize(w io.Writer, in io.Reader, baseline string) error {
	type key struct{ name, server string }
	groups := map[key][]Result{}
	var cases []string
	servers := map[string][]string{}
	scenario := map[string]string{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var res Result
		err := json.Unmarshal([]byte(b), &res)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		k := key{caseName(res), res.Server}
		if _, ok := servers[k.name]; !ok {
			cases = append(cases, k.name)
			scenario[k.name] = res.Scenario
		}
		if _, ok := groups[k]; !ok {
			servers[k.name] = append(servers[k.name], k.server)
		}
		groups[k] = append(groups[k], res)
	}
	if err := sc.Err(); err != nil {
		return err
	}

	var cols []column
	for _, c := range columns {
		for _, name := range cases {
			if c.applies(scenario[name]) {
				cols = append(cols, c)
				break
			}
		}
	}
	head := []string{"case", "server", "runs"}
	for _, c := range cols {
		head = append(head, c.title)
	}
	var b strings.Builder
	writeRow := func(cells []string) {
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	writeRow(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
		if i >= 2 {
			sep[i] = "---:"
		}
	}
	writeRow(sep)
	for _, name := range cases {
		medians := map[string][]float64{}
		oks := map[string][]bool{}
		for _, srv := range servers[name] {
			runs := groups[key{name, srv}]
			cells := []string{name, orDash(srv), strconv.Itoa(len(runs))}
			for _, c := range cols {
				m, ok := math.NaN(), false
				if c.applies(scenario[name]) {
					m, ok = median(runs, c.get)
				}
				medians[srv] = append(medians[srv], m)
				oks[srv] = append(oks[srv], ok)
				cells = append(cells, fmtNum(m, ok, c.prec))
			}
			writeRow(cells)
		}
		base, ok := medians[baseline]
		if !ok {
			continue
		}
		for _, srv := range servers[name] {
			if srv == baseline {
				continue
			}
			cells := []string{name, srv + "/" + baseline, ""}
			for i := range cols {
				if !oks[srv][i] || !oks[baseline][i] || base[i] == 0 {
					cells = append(cells, "-")
					continue
				}
				cells = append(cells, fmt.Sprintf("%.2fx", medians[srv][i]/base[i]))
			}
			writeRow(cells)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// median returns the median of get over runs, leaving out runs where it has
// no value.
func median(runs []Result, get func(Result) (float64, bool)) (float64, bool) {
	var v []float64
	for _, r := range runs {
		if x, ok := get(r); ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2], true
	}
	return (v[n/2-1] + v[n/2]) / 2, true
}

func fmtNum(v float64, ok bool, prec int) string {
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}
