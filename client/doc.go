// Package client owns the Go side of chatd's JSON protocol, chatd.v1
// (docs/protocol.md): dialing a server, matching each request to its reply,
// delivering the server's events as typed values, and reconnecting when the
// connection drops. The terminal client cmd/chat is built on it; tests and
// load tools can use it to talk to a real server.
//
// # Goroutines and concurrency
//
// A Client owns exactly one goroutine, its reader, started by Dial and ended
// by Close (or when the connection is lost and not re-established). The
// reader reads every frame, hands each reply to the request waiting for it,
// puts events on the Events channel, and, with Options.Reconnect, redials.
//
// Every method of Client is safe for concurrent use. Several requests may be
// in flight at once, from any number of goroutines; each call waits only for
// its own reply. Every call that waits for the server takes a
// context.Context: when it ends the call returns its error and the
// connection is unaffected (a late reply is dropped). Only writing a
// request to a socket that takes no data ignores the context; it is bounded
// by Options.WriteTimeout, and missing that closes the connection. Close
// takes no context: it waits at most a few seconds for the server to answer
// the close handshake.
//
// # Events and backpressure
//
// Events has a bounded buffer (Options.EventBuffer). When the buffer is full
// the reader waits for the consumer and meanwhile reads nothing from the
// socket, replies included, so requests wait too. The server keeps queueing
// for the client until its outbound queue limit (1 MiB by default) and then
// closes the connection with 1013 (slow consumer), after which a client with
// Options.Reconnect redials. A program that makes requests must therefore
// drain Events, from a goroutine other than the one making requests, or set
// Options.DiscardEvents.
//
// # Reconnecting
//
// With Options.Reconnect, a connection that ends for a reason worth retrying
// (the server shut down, a network error, a slow-consumer close) is redialed
// with jittered exponential backoff. The client presents the name and the
// session token it last received, so a named user keeps its name, and it
// rejoins its rooms before any other request goes out; Events carries a
// Disconnected and then a Reconnected event. Guests get a new guest name: the
// server does not let a client ask for a guest- name. Requests waiting for a
// connection are sent once it is back. A request that was in flight when the
// connection dropped is sent again if repeating it is harmless (join, leave,
// rooms, who, and send, whose client_msg_id lets the server drop the
// duplicate); dm and typing return an error wrapping ErrDisconnected instead.
//
// The rejoin recovers what the client missed: each room is rejoined with
// since, the last seq the client saw there, so the messages, edits,
// deletes and reactions sent while it was away arrive as events, in order, and none it
// already had arrives again; nor do its own sends, even those whose ack the
// lost connection never carried. A gap longer than one replay (the server's
// history limit, 1000 messages by default, or its reply bytes) is paged in
// with history requests before the Reconnected event, at the server's
// history rate; the room's live events wait until it has caught up, so
// they too arrive once and in order.
//
// Options.URLs lists more servers, the other nodes of a cluster: Dial tries
// them in turn until one accepts, and each redial moves on to the next, so a
// client whose node died reconnects to another and recovers there.
package client
