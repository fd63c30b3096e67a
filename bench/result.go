package bench

// Result is the outcome of one run. Times are in seconds or milliseconds as
// named; fields that need Config.PID are null without it.
type Result struct {
	Name     string  `json:"name,omitempty"`   // label of the case, set by the caller
	Server   string  `json:"server,omitempty"` // label of the server, set by the caller
	Scenario string  `json:"scenario"`
	Proto    string  `json:"proto"`      // plain or json
	URL      string  `json:"url"`        // with the room added (rooms: the first room's); several comma-separated
	Room     string  `json:"room"`       // rooms: the prefix of the rooms' names
	Conns    int     `json:"conns"`      // requested (churn: most open at once)
	Open     int     `json:"conns_open"` // opened (churn: most open at once)
	Senders  int     `json:"senders"`
	Rate     float64 `json:"rate"` // requested messages/s (rooms: per room; churn: connects/s), 0 = window (churn: unpaced)
	Window   int     `json:"window,omitempty"`
	Rooms    int     `json:"rooms,omitempty"`   // rooms: how many
	Members  int     `json:"members,omitempty"` // rooms: connections per room
	Size     int     `json:"size"`
	ConnectS float64 `json:"connect_s"` // time to open all connections
	// ConnectServerCPUS is the server's CPU time, in seconds, while the
	// connections opened and joined their rooms: with one room, what the
	// server spends on telling its members who came. Nil without -pid.
	ConnectServerCPUS *float64 `json:"connect_server_cpu_s,omitempty"`
	ReadyS            float64  `json:"ready_s"`    // then until all received a probe
	Duration          float64  `json:"duration_s"` // measured interval
	DrainS            float64  `json:"drain_s"`    // time waited for the last deliveries
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

	// A reaction storm (fanout with Config.StormAt): how many storms were
	// sent, the reactions written, the answers to them; reaction events
	// (react, unreact, reactions) received per connection per storm, on
	// average and by the connection that received most, and the reactions
	// they carried per connection per storm (a connection is not sent a
	// react event of its own, but a reactions event may cover it); the latency of the messages
	// sent during a storm (from its start until a storm window after its
	// end), measured deliveries only.
	Storms              int     `json:"storms,omitempty"`
	StormReacts         int64   `json:"storm_reacts,omitempty"`
	StormAcks           int64   `json:"storm_acks,omitempty"`
	StormErrors         int64   `json:"storm_errors,omitempty"`
	StormEventsPerConn  float64 `json:"storm_events_per_conn,omitempty"`
	StormEventsMax      float64 `json:"storm_events_max_per_conn,omitempty"`
	StormCoveredPerConn float64 `json:"storm_reactions_per_conn,omitempty"`
	StormLatencyP50     float64 `json:"storm_latency_p50_ms,omitempty"`
	StormLatencyP99     float64 `json:"storm_latency_p99_ms,omitempty"`
	StormLatencyMax     float64 `json:"storm_latency_max_ms,omitempty"`
	StormLatencySamples int     `json:"storm_latency_samples,omitempty"`

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
