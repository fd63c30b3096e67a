package bench

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Scenario names accepted in Config.Scenario.
const (
	// ScenarioFanout: every connection in one room, Senders of them send.
	ScenarioFanout = "fanout"
	// ScenarioIdle: connections held open, to weigh the server's memory.
	ScenarioIdle = "idle"
	// ScenarioRooms: Rooms rooms of Members connections each, one sender
	// per room; deliveries are counted per room.
	ScenarioRooms = "rooms"
	// ScenarioChurn: connections opened and closed again at a target rate,
	// at most Conns at a time; handshakes are timed.
	ScenarioChurn = "churn"
)

// Protocols accepted in Config.Proto.
const (
	// ProtoPlain: every text frame is one message, broadcast as it is.
	ProtoPlain = "plain"
	// ProtoJSON: chatd's JSON protocol, WebSocket subprotocol chatd.v1.
	ProtoJSON = "json"
	// ProtoCentrifugo: Centrifugo's JSON client protocol (v2), the channel
	// being the room.
	ProtoCentrifugo = "centrifugo"
)

// maxRooms bounds Config.Rooms and Config.Members.
const maxRooms = 1 << 20

// DefaultRoom is the room joined when neither Config.Room nor the URL names
// one.
const DefaultRoom = "bench"

// Config describes one load-test run. Zero fields take the defaults listed
// with each field.
type Config struct {
	// URL is the WebSocket endpoint, e.g. ws://127.0.0.1:8082/ws, or
	// several separated by commas, the nodes of a cluster: connection i goes
	// to the (i mod n)th (rooms: each room's members take them in turn), so
	// the first senders of a fanout are on different nodes.
	URL string
	// Scenario is ScenarioFanout (default), ScenarioIdle, ScenarioRooms or
	// ScenarioChurn.
	Scenario string
	// Proto is the protocol spoken: ProtoPlain (default), ProtoJSON or
	// ProtoCentrifugo. In JSON mode the connections ask for the subprotocol
	// chatd.v1 (and fail if the server does not select it), send
	// {"type":"send"} requests and take the text of the "message" events
	// they receive as the message. In Centrifugo mode they connect,
	// subscribe to the channel Room, publish the text as the data of a
	// publication and take the data of the publications pushed to them as
	// the message.
	Proto string
	// Room is the chat room to join and, in JSON mode, to send to. The room
	// is joined with the URL's query parameter room, which is added as
	// room=Room unless the URL has one. Default: the URL's room, else
	// DefaultRoom; naming a room other than the URL's is an error. In the
	// rooms scenario it is the prefix of the rooms' names: Room-0,
	// Room-1, ..., each connection's URL naming its own.
	Room string
	// Conns is how many connections to open (default 100). All of them
	// receive. Rooms: Rooms*Members, which a zero Conns becomes and any
	// other value is an error. Churn: the most connections open (or being
	// opened or closed) at once.
	Conns int
	// Senders is how many of the connections also send (fanout; default 1).
	// Rooms has one sender per room and churn none: there it is ignored.
	Senders int
	// Rate is, for fanout, the total send rate in messages per second,
	// spread evenly over the senders; for rooms, the send rate of each
	// room's sender; for churn, the connections to open per second. 0 sends
	// as fast as Window allows (churn: opens connections as fast as Conns
	// at a time allow).
	Rate float64
	// Window bounds the messages in flight when Rate is 0: senders pause
	// while more than Window messages (Window*(Conns-1) deliveries; rooms:
	// Window*(Members-1)) are outstanding, and each sender while more than
	// Window/Senders (rooms: Window/Rooms) of its own are, at least one
	// (default 64).
	Window int
	// Rooms is how many rooms the rooms scenario uses (default 10).
	Rooms int
	// Members is how many connections join each room in the rooms scenario
	// (default 10, at least 2). Connection i joins room i%Rooms; the first
	// connection of each room that opens is its sender.
	Members int
	// Hold is how long each churn connection stays open after its
	// handshake before it starts the close handshake (default 0: at once).
	Hold time.Duration
	// Size is the payload size in bytes (default 64): "<sender> <seq>
	// <unixnano> <run tag>" padded with 'x', never shorter than that. In
	// JSON mode it is the size of the text, without the JSON around it.
	Size int
	// Duration is how long to send (fanout, rooms), hold the connections
	// (idle) once all are open, or open and close connections (churn)
	// (default 10s).
	Duration time.Duration
	// Warmup is sent before Duration and left out of every figure.
	Warmup time.Duration
	// Drain is how long to wait after sending for the deliveries still in
	// flight (default 5s). Churn does not use it: after Duration it lets the
	// handshakes under way finish (each within ConnectTimeout) and closes
	// their connections (each within 3s).
	Drain time.Duration
	// Settle is how long idle waits after all connections are open before it
	// reads the server's memory (default 3s, at most Duration).
	Settle time.Duration
	// Sources is how many loopback source addresses 127.0.0.1..127.0.0.N the
	// client sockets are spread over, for loopback targets (default 8), so
	// that more than one address's worth of ephemeral ports can be used.
	Sources int
	// PIDs are the server's process ids (a cluster's nodes); when set,
	// their CPU use and memory, summed, are read from /proc.
	PIDs []int
	// PIDTrees are more server processes whose CPU use is read with that
	// of all their descendants, including those that exited meanwhile
	// (PostgreSQL's postmaster, whose backends come and go); their memory is
	// not counted, since such processes share most of it.
	PIDTrees []int
	// DialConcurrency is how many connections are being opened at a time
	// (default 64).
	DialConcurrency int
	// ConnectTimeout bounds the TCP connect plus handshake of one
	// connection (default 10s).
	ConnectTimeout time.Duration
	// MaxSamples caps the latency samples kept in memory (default 2M); past
	// it each receiver keeps a uniform random sample of its deliveries.
	MaxSamples int
	// MaxMessage is the largest message accepted from the server, in bytes
	// (default 16 MiB); a bigger one ends the connection with an error.
	MaxMessage int

	// StormAt, when above 0, makes a fanout in JSON mode a reaction storm:
	// StormAt into the measured interval every open connection reacts once
	// to one message of the room (the first message event the run
	// receives), the reactions spread evenly over StormWindow (default 1s);
	// again every StormEvery (0: once), alternately react and unreact so
	// that each storm changes the message. Messages sent from a storm's
	// start until StormWindow after its end are also measured apart.
	StormAt     time.Duration
	StormWindow time.Duration
	StormEvery  time.Duration

	// urls are the URLs of URL, each naming Room; set by withDefaults.
	urls []string
}

func (c Config) withDefaults() (Config, error) {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Scenario == "" {
		c.Scenario = ScenarioFanout
	}
	if c.Scenario == ScenarioRooms {
		def(&c.Rooms, 10)
		def(&c.Members, 10)
		if c.Rooms <= maxRooms && c.Members <= maxRooms && c.Conns == 0 {
			c.Conns = c.Rooms * c.Members
		}
	}
	def(&c.Conns, 100)
	def(&c.Senders, 1)
	def(&c.Window, 64)
	def(&c.Size, 64)
	def(&c.Sources, 8)
	def(&c.DialConcurrency, 64)
	def(&c.MaxSamples, 2<<20)
	def(&c.MaxMessage, 16<<20)
	defD(&c.Duration, 10*time.Second)
	defD(&c.Drain, 5*time.Second)
	defD(&c.Settle, 3*time.Second)
	defD(&c.ConnectTimeout, 10*time.Second)
	defD(&c.StormWindow, time.Second)

	if c.URL == "" {
		return c, errors.New("no URL")
	}
	var us []*url.URL
	for raw := range strings.SplitSeq(c.URL, ",") {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			return c, fmt.Errorf("bad URL: %w", err)
		case u.Scheme != "ws":
			return c, fmt.Errorf("bad URL %q: only ws:// is supported", raw)
		}
		us = append(us, u)
	}
	for _, p := range append(c.PIDs, c.PIDTrees...) {
		if p <= 0 {
			return c, fmt.Errorf("bad process id %d", p)
		}
	}
	switch {
	case c.Scenario != ScenarioFanout && c.Scenario != ScenarioIdle &&
		c.Scenario != ScenarioRooms && c.Scenario != ScenarioChurn:
		return c, fmt.Errorf("unknown scenario %q", c.Scenario)
	case c.Conns < 0 || c.Senders < 0 || c.Window < 0 || c.Size < 0 ||
		c.Sources < 0 || c.DialConcurrency < 0 || c.MaxSamples < 0 ||
		c.MaxMessage < 0 || c.Rooms < 0 || c.Members < 0:
		return c, errors.New("negative count")
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return c, errors.New("negative or not finite rate")
	case c.Duration < 0 || c.Warmup < 0 || c.Drain < 0 || c.Settle < 0 ||
		c.ConnectTimeout < 0 || c.Hold < 0 || c.StormAt < 0 || c.StormWindow < 0 || c.StormEvery < 0:
		return c, errors.New("negative duration")
	case c.Sources > 254:
		return c, errors.New("at most 254 source addresses")
	case c.Size > 1<<20:
		return c, errors.New("size above 1 MiB")
	case c.Scenario == ScenarioFanout && c.Conns < 2:
		return c, errors.New("fanout needs at least 2 connections")
	case c.Scenario == ScenarioFanout && c.Senders > c.Conns:
		return c, fmt.Errorf("%d senders but only %d connections", c.Senders, c.Conns)
	case c.Scenario == ScenarioRooms && c.Members < 2:
		return c, errors.New("rooms needs at least 2 members per room")
	case c.Scenario == ScenarioRooms && (c.Rooms > maxRooms || c.Members > maxRooms):
		return c, fmt.Errorf("more than %d rooms or members", maxRooms)
	case c.Scenario == ScenarioRooms && c.Conns != c.Rooms*c.Members:
		return c, fmt.Errorf("%d connections but %d rooms of %d members", c.Conns, c.Rooms, c.Members)
	}
	if c.StormAt > 0 {
		switch {
		case c.Scenario != ScenarioFanout || c.Proto != ProtoJSON:
			return c, errors.New("a reaction storm needs the fanout scenario in the JSON protocol")
		case c.StormEvery > 0 && c.StormEvery <= 2*c.StormWindow:
			return c, errors.New("storms must be more than twice the storm window apart")
		}
	}
	if c.Settle > c.Duration {
		c.Settle = c.Duration
	}
	switch c.Proto {
	case "":
		c.Proto = ProtoPlain
	case ProtoPlain, ProtoJSON, ProtoCentrifugo:
	default:
		return c, fmt.Errorf("unknown protocol %q (plain, json or centrifugo)", c.Proto)
	}
	c.urls = nil
	for _, u := range us {
		var err error
		if c, err = c.withRoom(u); err != nil {
			return c, err
		}
		c.urls = append(c.urls, u.String())
	}
	c.URL = strings.Join(c.urls, ",")
	return c, nil
}

// withRoom settles c.Room and makes sure that u names it in its query.
func (c Config) withRoom(u *url.URL) (Config, error) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("bad URL query: %w", err)
	}
	if !q.Has("room") {
		if c.Room == "" {
			c.Room = DefaultRoom
		}
		add := "room=" + url.QueryEscape(c.Room)
		if u.RawQuery == "" {
			u.RawQuery = add
		} else {
			u.RawQuery += "&" + add
		}
		return c, nil
	}
	room := q.Get("room")
	switch {
	case room == "":
		return c, errors.New("the URL has an empty room")
	case c.Room != "" && !strings.EqualFold(c.Room, room):
		return c, fmt.Errorf("room %q but the URL has room %q", c.Room, room)
	}
	c.Room = room
	return c, nil
}

// roomURLs returns, for each room of the rooms scenario, the URLs of
// c.urls with their room replaced by Room-0, Room-1, ...; for the other
// scenarios, c.urls alone. c must have been through withDefaults.
func (c Config) roomURLs() ([][]string, error) {
	if c.Scenario != ScenarioRooms {
		return [][]string{c.urls}, nil
	}
	urls := make([][]string, c.Rooms)
	for _, raw := range c.urls {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, err
		}
		for g := range urls {
			q.Set("room", roomName(c.Room, g))
			u.RawQuery = q.Encode()
			urls[g] = append(urls[g], u.String())
		}
	}
	return urls, nil
}

// roomName is the name of room g of the rooms scenario.
func roomName(prefix string, g int) string {
	return prefix + "-" + strconv.Itoa(g)
}
