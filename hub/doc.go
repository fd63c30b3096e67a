// Package hub owns local fan-out: the rooms of one chatd process, their
// members and who is present, each room's message sequence, and the delivery
// of every event to the members of a room.
//
// The hub knows nothing of sockets or wire formats. A member is a Subscriber
// that accepts already-encoded frames without blocking; the hub encodes each
// event at most once per Format, and every member that asked for that format
// receives the same bytes.
//
// All methods are safe for concurrent use. Rooms are spread over shards, each
// guarded by its own lock, so joins in unrelated rooms do not contend; a room
// is created on its first join and freed when its last member leaves. A
// room's lock is held for a whole fan-out: that is what gives every member
// the room's events in one order, the order of their sequence numbers.
//
// Users joining and leaving reach the members as presence diffs, coalesced
// per room by one clock goroutine per hub (presence.go); Close stops it.
//
// Lock order: shard, then room, then the presence clock's list. Subscriber
// methods are called with the room lock held.
package hub
