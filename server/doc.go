// Package server owns chatd's network face: the HTTP routes, the WebSocket
// upgrade at /ws, and every connection's read loop and outbound queue.
//
// # Connections and goroutines
//
// Each connection has one reader goroutine, started by the upgrade handler
// and ended when the socket closes; it decodes frames, answers protocol
// errors, and publishes messages to the hub. Writing is not done per
// connection: a small, fixed pool of writer goroutines (one per CPU by
// default) sweeps the connections that have frames queued, copies everything
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
