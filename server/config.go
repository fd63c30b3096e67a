package server

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/chatd/chatd/store"
)

// Config tunes a Server. The zero value is ready to use: every zero field
// means the documented default.
type Config struct {
	// MaxMessageBytes limits one incoming message; larger messages close the
	// connection with 1009. Zero means 64 KiB.
	MaxMessageBytes int
	// MaxConns caps concurrent WebSocket connections; upgrades beyond it are
	// answered 503. Zero means DefaultMaxConns().
	MaxConns int
	// QueueBytes bounds what may wait in one connection's outbound queue,
	// counting each frame's size plus 32 bytes of bookkeeping. A connection
	// that overflows it is closed with 1013. Zero means 1 MiB.
	QueueBytes int
	// PingInterval is how often the server pings each connection. Zero means 25s.
	PingInterval time.Duration
	// IdleTimeout closes a connection from which nothing, not even a pong,
	// arrived for this long. Zero means 60s.
	IdleTimeout time.Duration
	// WriteTimeout bounds a write to a socket that is not accepting data;
	// the connection is closed when it passes. Zero means 10s.
	WriteTimeout time.Duration
	// HandshakeTimeout bounds reading the HTTP request headers and writing
	// the handshake response. Zero means 10s.
	HandshakeTimeout time.Duration
	// Writers is the number of writer goroutines. Zero means GOMAXPROCS.
	Writers int
	// WriteRate is the number of socket writes per second, across all
	// writers, above which writers wait between sweeps so that more frames
	// share each write: under heavy fan-out this trades a few milliseconds of
	// latency for far fewer system calls. Zero means 30000; negative means no
	// limit.
	WriteRate float64
	// MaxRooms is how many rooms one connection may be in. Zero means 100.
	MaxRooms int
	// SendRate is the sustained number of messages per second one connection
	// may send, with bursts of SendBurst. JSON clients over it get a
	// rate_limited error; plain clients are slowed down. Zero means 20 per
	// second with bursts of 40; negative means no limit.
	SendRate  float64
	SendBurst int
	// Store, when set, makes room messages durable: a message is
	// acknowledged and delivered once stored, rooms continue their sequence
	// across restarts, and clients can recover and page through history.
	// Nil keeps messages in memory only. The caller opens and closes it.
	Store store.Store
	// OnCommit, if set, is told of every store commit: its size, how long
	// it took and whether it failed (for metrics).
	OnCommit func(size int, took time.Duration, err error)
	// RetentionAge and RetentionMessages limit what a store keeps: messages
	// older than RetentionAge, and beyond the newest RetentionMessages of a
	// room, are deleted every RetentionInterval, in the background. Zero
	// means no limit; RetentionInterval zero means one minute.
	RetentionAge      time.Duration
	RetentionMessages int
	RetentionInterval time.Duration
	// JoinHistory is how many of a room's newest messages a JSON client
	// receives when it joins without saying (plain clients ask with
	// ?history=). Zero means 50; negative means none.
	JoinHistory int
	// HistoryLimit bounds the messages one history request or join replay
	// returns. Zero means 1000.
	HistoryLimit int
	// Logger receives connection and error logs. Nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultMaxMessageBytes = 64 << 10
	defaultQueueBytes      = 1 << 20
	defaultWriteRate       = 30000
	// frameOverhead is what one queued frame costs beyond its bytes: the
	// slice header in the queue. Counting it bounds the queue's length too.
	frameOverhead = 32
	// closeGrace is how long to wait for a client to answer a close frame
	// before dropping the TCP connection.
	closeGrace = 3 * time.Second
)

func (c Config) withDefaults() Config {
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = defaultMaxMessageBytes
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns()
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = defaultQueueBytes
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.Writers <= 0 {
		c.Writers = runtime.GOMAXPROCS(0)
	}
	if c.WriteRate == 0 {
		c.WriteRate = defaultWriteRate
	}
	if c.MaxRooms <= 0 {
		c.MaxRooms = 100
	}
	if c.SendRate == 0 {
		c.SendRate = 20
	}
	if c.SendBurst <= 0 {
		c.SendBurst = max(int(2*c.SendRate), 1)
	}
	if c.RetentionInterval <= 0 {
		c.RetentionInterval = time.Minute
	}
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = 1000
	}
	switch {
	case c.JoinHistory == 0:
		c.JoinHistory = 50
	case c.JoinHistory < 0:
		c.JoinHistory = 0
	}
	c.JoinHistory = min(c.JoinHistory, c.HistoryLimit)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
