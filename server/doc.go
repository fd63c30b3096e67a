// Package server owns chatd's network face: the HTTP routes, the WebSocket
// upgrade at /ws, every connection's read loop and outbound queue, the
// requests a JSON client sends, the users present, and the account API.
//
// # Layers
//
// The package is one package, but its files say which layer they belong
// to, from the edge inwards:
//
//   - admit_*.go: admission. What a client must pass before it has a
//     connection: the per-address cap at accept (admit_accept.go), the
//     client's address behind trusted proxies, the Origin check, the
//     per-address WebSocket limits, the checks of an upgrade request that
//     are answered with an HTTP status (admit_request.go), and the upgrade
//     itself (admit_upgrade.go). An admission value (admit_admission.go)
//     owns everything an upgrade holds until the connection is registered
//     (admit_registry.go), and its Close is the one rollback.
//   - conn*.go: transport. The connection (conn.go) and its context, its
//     reader (conn_read.go, conn_framereader.go), the pacing of its
//     requests by its reading (conn_pacing.go), the frames and the
//     per-format encoding of events (conn_frame.go, conn_encode.go), and
//     the outbound engine: the outbox (conn_outbox.go) that queues frames
//     and owns the write side of the socket, the writer pool that sweeps
//     outboxes (conn_writer.go) and its non-blocking system call
//     (conn_rawwrite_*.go).
//   - req_*.go: requests. req_dispatch.go has one table of every JSON
//     request type, with the fields it requires, its rate class and its
//     handler; each handler is a method of conn in the file of its subject
//     (joins, sends, history, rooms and their owners), and the request
//     and send rate limits sit beside them. A plain-text client's lines
//     are handled in req_plain.go.
//   - session_*.go: whom a connection speaks for. The identity a token or
//     a guest name gives it and its re-authentication (session_auth.go),
//     and the registry of users present, with their names, read positions
//     and direct messages (session_registry.go).
//   - api_*.go: the HTTP API beside /ws: accounts and login throttling,
//     publishing for backends, and readiness.
//
// server.go, config.go, defaults.go, stats.go and retention.go are the
// Server itself: its wiring, settings and their defaults, counters and
// background jobs.
//
// # Connections and goroutines
//
// Each connection has one reader goroutine, started by the upgrade handler
// and ended when the socket closes; it decodes frames, answers protocol
// errors, and publishes messages to the hub. Writing is not done per
// connection: a small, fixed pool of writer goroutines (one per CPU by
// default) sweeps the outboxes that have frames queued, copies everything
// queued for a connection into one buffer and writes it with one
// non-blocking system call. Many frames therefore leave in one write, and an
// idle connection holds no buffer and no goroutine besides its reader.
//
// A connection whose socket is full is handed to a goroutine of its own that
// finishes the write under a write deadline and then returns the connection
// to the pool. Its queue stays bounded: when the bytes queued for it exceed
// Config.QueueBytes it is closed with 1013 (try again later), and a write that
// misses the deadline closes it too, so a slow client never delays others.
//
// # Shutdown
//
// Server.Shutdown refuses new connections, sends every client a 1001 close
// frame after what was already queued for it, waits for the clients to close,
// and force-closes whatever is left when its context ends. net/http's own
// Shutdown does not close hijacked connections, which is why this exists.
package server
