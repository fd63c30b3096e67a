// Command chatbench load-tests plain-text WebSocket broadcast servers such as
// chatd, or chatd's JSON protocol (-proto json): it opens many connections,
// sends timestamped messages and measures what every other connection
// receives (see package bench).
//
//	chatbench -url ws://127.0.0.1:8082/ws -conns 1000 -senders 10 -rate 200 -duration 10s
//	chatbench -url ws://127.0.0.1:8082/ws -proto json -room bench -rate 0 -window 64
//	chatbench -url ws://127.0.0.1:8082/ws -conns 1000 -senders 2 -rate 0 -window 32
//	chatbench -url ws://127.0.0.1:8082/ws -scenario idle -conns 10000 -pid 1234
//	chatbench -url ws://127.0.0.1:8082/ws -scenario rooms -rooms 100 -members 10 -rate 5
//	chatbench -url ws://127.0.0.1:8082/ws -scenario churn -conns 50 -rate 500 -duration 10s
//	chatbench -url ws://127.0.0.1:8082/ws,ws://127.0.0.1:8083/ws -proto json -senders 2 -pid 1234,1235 -pid-tree 999
//	chatbench -url ws://127.0.0.1:8000/connection/websocket -proto centrifugo -rate 200
//	chatbench summarize results.jsonl
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chatd/chatd/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "summarize" {
		return summarize(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: chatbench [flags]
       chatbench summarize [-baseline NAME] FILE...

chatbench load-tests a WebSocket broadcast server with one of four scenarios:

  fanout  -conns connections in one room; the first -senders of them send
          timestamped text messages (-rate in all) while all receive.
          With -rate 0 a closed loop: each sender keeps -window/-senders
          messages in flight (-senders 2 -window 32: few senders, a small
          window, where every millisecond a server holds a frame back
          costs throughput)
  rooms   -rooms rooms of -members connections each; one sender per room
          sends -rate messages/s to its room; deliveries counted per room
  idle    -conns connections held open, to weigh the server's memory
  churn   connections opened and closed again, -rate per second, at most
          -conns open at once, each held -hold; handshakes timed

It reports deliveries, loss, latency (churn: connects/s and handshake
latency) and, with -pid, the server's CPU and memory. The connections join
-room with the URL query room=NAME (rooms: NAME-0, NAME-1, ...). With -proto
json they speak chatd's JSON protocol (subprotocol chatd.v1): messages go
out as send requests, the acks are counted and the text of each message
event is taken as the message. With -proto centrifugo they speak
Centrifugo's JSON protocol: each connects, subscribes to the channel -room
and publishes; the data of each publication pushed is the message. Given
several -url, connection i goes to the (i mod n)th, so the first -senders
are on different servers. Progress goes to stderr once a second. Every
run stops by itself: connect, -warmup + -duration, -drain, close.

"summarize" reads the JSON lines of -json runs (with -name and -server set)
and prints a markdown table of the medians per case and server, with the
ratio of each server to the baseline.

Flags:
`)
		fs.PrintDefaults()
	}
	var (
		cfg      bench.Config
		jsonOut  bool
		quiet    bool
		name     string
		cpuprof  string
		server   string
		scenario = fs.String("scenario", "fanout", "`fanout` (one room: send and measure deliveries), rooms (many rooms, a sender in each), idle (hold connections, weigh server memory) or churn (open and close connections, time handshakes)")
	)
	fs.StringVar(&cfg.URL, "url", "ws://127.0.0.1:8082/ws", "WebSocket `URL` of the server (ws:// only), or several, comma-separated, that the connections take in turn (a cluster's nodes)")
	fs.StringVar(&cfg.Proto, "proto", bench.ProtoPlain, "protocol: `plain` (text frames broadcast as they are), json (chatd.v1: send requests, message events) or centrifugo (Centrifugo's JSON protocol: connect, subscribe to -room, publish)")
	fs.StringVar(&cfg.Room, "room", "", "room `NAME` to join and send to, added to the URL as room=NAME unless the URL has a room (default: the URL's room, else "+bench.DefaultRoom+")")
	fs.IntVar(&cfg.Conns, "conns", 100, "connections to open; all of them receive (rooms: rooms*members, the default; churn: most open at once)")
	fs.IntVar(&cfg.Senders, "senders", 1, "how many of the connections also send (fanout)")
	fs.Float64Var(&cfg.Rate, "rate", 100, "fanout: total messages per second over all senders, evenly spread; rooms: messages per second in each room; 0 = as fast as -window allows; churn: connects per second, 0 = as fast as -conns at a time allow")
	fs.IntVar(&cfg.Window, "window", 64, "with -rate 0: most messages in flight (each awaited by conns-1 receivers, rooms: members-1); each sender may have window/senders (rooms: window/rooms), at least 1")
	fs.IntVar(&cfg.Rooms, "rooms", 10, "rooms: how many rooms")
	fs.IntVar(&cfg.Members, "members", 10, "rooms: connections per room (at least 2)")
	fs.DurationVar(&cfg.Hold, "hold", 0, "churn: how long each connection stays open after its handshake")
	fs.IntVar(&cfg.Size, "size", 64, "message payload `bytes`: \"<sender> <seq> <unixnano> <run tag>\" padded with x")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured sending time (fanout, rooms), holding time (idle) after all connections are open, or churning time (churn)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "sending time before -duration, left out of the figures")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "most time to wait after sending for deliveries in flight")
	fs.DurationVar(&cfg.Settle, "settle", 3*time.Second, "idle: time after all connections are open before the server's RSS is read")
	fs.IntVar(&cfg.Sources, "sources", 8, "spread client sockets over source addresses 127.0.0.1..127.0.0.`N` (loopback targets only)")
	fs.Var((*pidList)(&cfg.PIDs), "pid", "server process `ids`, comma-separated (a cluster's nodes): report their CPU (from /proc/PID/stat) and RSS (/proc/PID/status), summed")
	fs.Var((*pidList)(&cfg.PIDTrees), "pid-tree", "more server process `ids` whose CPU is counted with that of all their descendants, past and present (PostgreSQL's postmaster), but not their RSS")
	fs.IntVar(&cfg.DialConcurrency, "dial-concurrency", 64, "connections being opened at a time")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 10*time.Second, "timeout of one connect plus handshake")
	fs.DurationVar(&cfg.StormAt, "storm-at", 0, "fanout, -proto json: a reaction storm this long into -duration: every connection reacts once to the run's first message, spread over -storm-window; reports the reaction events each connection received and the latency of the messages sent during the storm (0: no storm)")
	fs.DurationVar(&cfg.StormWindow, "storm-window", time.Second, "with -storm-at: the time a storm's reactions are spread over")
	fs.DurationVar(&cfg.StormEvery, "storm-every", 0, "with -storm-at: repeat the storm this often, reacting and unreacting in turn (0: once)")
	fs.BoolVar(&jsonOut, "json", false, "print the result as one JSON object on stdout instead of a table")
	fs.BoolVar(&quiet, "q", false, "no progress lines on stderr")
	fs.StringVar(&name, "name", "", "label of this case, recorded in the result (for summarize)")
	fs.StringVar(&server, "server", "", "label of the server under test, recorded in the result (for summarize)")
	fs.StringVar(&cpuprof, "cpuprofile", "", "write this tool's CPU profile to `file`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chatbench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg.Scenario = *scenario
	if msg := checkFlags(fs, &cfg); msg != "" {
		fmt.Fprintf(stderr, "chatbench: %s\n", msg)
		return 2
	}

	if cpuprof != "" {
		f, err := os.Create(cpuprof)
		if err != nil {
			fmt.Fprintf(stderr, "chatbench: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "chatbench: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress io.Writer = stderr
	if quiet {
		progress = nil
	}
	res, err := bench.Run(ctx, cfg, progress)
	res.Name, res.Server = name, server
	if res.Scenario != "" { // a run took place, even if cut short
		if jsonOut {
			b, _ := json.Marshal(res)
			fmt.Fprintf(stdout, "%s\n", b)
		} else {
			bench.FormatText(stdout, res)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: %v\n", err)
		return 1
	}
	return 0
}

// scenarioFlags are flags that apply to some scenarios only, and are
// refused with the others. (Older flags that a scenario has no use for, such
// as -size with idle, are ignored as they always were.)
var scenarioFlags = map[string][]string{
	"senders":      {bench.ScenarioFanout, bench.ScenarioIdle},
	"rooms":        {bench.ScenarioRooms},
	"members":      {bench.ScenarioRooms},
	"hold":         {bench.ScenarioChurn},
	"storm-at":     {bench.ScenarioFanout},
	"storm-window": {bench.ScenarioFanout},
	"storm-every":  {bench.ScenarioFanout},
}

// checkFlags refuses flags given for a scenario that has no use for them,
// and fits cfg to the scenario: the rooms scenario's connections are
// rooms*members unless -conns is given. It returns what is wrong, or "".
func checkFlags(fs *flag.FlagSet, cfg *bench.Config) string {
	var msg string
	fs.Visit(func(f *flag.Flag) {
		if sc, ok := scenarioFlags[f.Name]; ok && msg == "" && !slices.Contains(sc, cfg.Scenario) {
			msg = fmt.Sprintf("-%s does not apply to -scenario %s", f.Name, cfg.Scenario)
		}
	})
	if msg != "" {
		return msg
	}
	sends := cfg.Scenario == bench.ScenarioFanout || cfg.Scenario == bench.ScenarioRooms
	if sends && cfg.Rate == 0 && cfg.Window == 0 {
		return "-rate 0 needs -window > 0"
	}
	if cfg.Scenario == bench.ScenarioRooms {
		conns := false
		fs.Visit(func(f *flag.Flag) { conns = conns || f.Name == "conns" })
		if !conns {
			cfg.Conns = 0 // rooms * members
		}
	}
	return ""
}

// pidList is a flag of comma-separated process ids.
type pidList []int

func (p *pidList) String() string {
	if p == nil {
		return ""
	}
	s := make([]string, len(*p))
	for i, v := range *p {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (p *pidList) Set(v string) error {
	*p = nil
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad process id %q", f)
		}
		*p = append(*p, n)
	}
	return nil
}

func summarize(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatbench summarize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseline := fs.String("baseline", "gorilla", "server label that the others are compared to")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: chatbench summarize [-baseline NAME] FILE...  (- for stdin)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var readers []io.Reader
	for _, f := range fs.Args() {
		if f == "-" {
			readers = append(readers, os.Stdin)
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintf(stderr, "chatbench: %v\n", err)
			return 1
		}
		defer fh.Close()
		// A newline between files, in case one does not end with one.
		readers = append(readers, fh, strings.NewReader("\n"))
	}
	if err := bench.Summarize(stdout, io.MultiReader(readers...), *baseline); err != nil {
		fmt.Fprintf(stderr, "chatbench: %v\n", err)
		return 1
	}
	return 0
}
