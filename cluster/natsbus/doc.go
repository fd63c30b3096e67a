// Package natsbus owns chatd's cluster transport over NATS: the hub.Relay
// that tells the other chatd processes sharing one PostgreSQL store of the
// messages stored here, and hands theirs to the local hub.
//
// PostgreSQL is the source of truth and numbers every room's messages; NATS
// only carries notifications, with core NATS's at-most-once delivery. A
// lost notification costs latency, not a message: the hub sees the gap at
// the next number, or at the periodic CatchUp this package runs (and runs
// again on every reconnect), and reads what it missed from the store.
//
// A Bus connects to an existing NATS deployment (Config.URLs), or embeds a
// NATS server (Config.Cluster) that routes to its peers' embedded servers,
// so that a cluster needs only chatd and PostgreSQL. It subscribes to a
// room's subject only while the room has local members (Follow, Unfollow).
//
// All methods of a Bus are safe for concurrent use.
package natsbus
