// Package hub owns local fan-out: the rooms of one chatd process, their
// members, and the delivery of each published message to every member of a
// room but its sender.
//
// The hub knows nothing of sockets or wire formats. A member is a Subscriber
// that accepts already-encoded frames without blocking; the hub encodes each
// message at most once per Format, and every member that asked for that
// format receives the same bytes.
//
// All methods are safe for concurrent use. Rooms are spread over shards, each
// guarded by its own lock, so joins in unrelated rooms do not contend; a room
// is created on its first join and freed when its last member leaves.
//
// Lock order: shard, then room. Subscriber.Deliver is called with the room
// lock held.
package hub
