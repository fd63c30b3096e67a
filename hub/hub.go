package hub

import (
	"context"
	"errors"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
)

// Format selects one encoding of an event; the hub asks its Encoder for each
// format at most once per event.
type Format uint8

// MaxFormats bounds the number of distinct formats in one process.
const MaxFormats = 4

// Subscriber is one connection, a member of any number of rooms.
type Subscriber interface {
	// Deliver offers an encoded frame. The hub calls it with a room lock
	// held, so it must not block, perform I/O or call into the hub. The frame
	// is shared by every recipient and must not be modified. A droppable
	// frame (typing) may be discarded by a subscriber that is behind.
	Deliver(frame []byte, droppable bool)
	// Format is the encoding the subscriber receives.
	Format() Format
	// User identifies the user behind the connection; connections with the
	// same User count as one member of a room.
	User() string
	// Name is the user's display name.
	Name() string
}

// A PairSubscriber is a Subscriber that can be offered two frames that
// arrive together, in one call. The hub does so when a run of reactions
// held back goes out just before the message that ends it: the two reach
// every member at once, and a subscriber that paces its writes by how many
// frames arrive (server's writers' hold) should count them as one arrival,
// not as frames arriving faster than it writes. Like Deliver, it must not
// block, and the frames are shared and must not be modified.
type PairSubscriber interface {
	Subscriber
	DeliverPair(first, second []byte)
}

// Encoder returns the frame carrying e in format f, or nil when subscribers
// of that format do not receive events of e's kind.
type Encoder func(f Format, e *Event) []byte

// Config configures a Hub. The zero value of each field means its default.
type Config struct {
	// Encode encodes events; it is required.
	Encode Encoder
	// Now is the clock that stamps messages. Nil means time.Now.
	Now func() time.Time
	// DedupWindow is how long a room remembers a message's ClientMsgID.
	// Zero means two minutes.
	DedupWindow time.Duration
	// DedupEntries bounds the ids a room remembers. Zero means 4096.
	DedupEntries int
	// Store and Journals, when set, make messages durable: each room's
	// sequence continues from the store, and a message is offered to the
	// members only after its room's journal has stored it. A room always
	// uses the same journal of the set, so its order is that journal's
	// order, and a slow commit holds up only the rooms of one journal.
	// Store also serves the history replayed by JoinReplay.
	Store    store.Store
	Journals *journal.Set
	// ReplayLimit bounds the messages one JoinReplay delivers. Zero means 1000.
	ReplayLimit int
	// ReplayBytes bounds the bytes of the frames one JoinReplay delivers to
	// one subscriber, so that a replay never fills more than a share of its
	// queue; the first message is delivered whatever its size. Zero means
	// no bound.
	ReplayBytes int
	// PresenceInterval is how often a room's members may hear of users
	// joining and leaving: the first change after a quiet interval goes out
	// at once, later ones in one diff per interval. Zero means
	// DefaultPresenceInterval.
	PresenceInterval time.Duration
	// PresenceNames bounds the names one presence diff lists; its user
	// count is always whole. Zero means DefaultPresenceNames.
	PresenceNames int
	// MaxBacklog is how many messages may wait in one journal before
	// Publish and Post refuse the messages of its rooms with ErrBacklogged.
	// Zero means DefaultMaxBacklog.
	MaxBacklog int
	// Relay, when set, makes this hub one of several processes sharing
	// Store (a cluster): Store must be a store.Sequencer and Journals must
	// have it as their Sequencer, so that the store numbers each room's
	// messages, and the relay tells the other processes of every message
	// stored here. Nil means a single process, which numbers messages
	// itself.
	Relay Relay
}

// ErrNotMember is returned for a publication from a subscriber that is not
// a member of the room.
var ErrNotMember = errors.New("not a member of the room")

// DefaultMaxBacklog is Config.MaxBacklog's default.
const DefaultMaxBacklog = 10000

const shardCount = 64

// Hub is the set of rooms of one process. Create it with New, and stop
// its presence clock with Close.
type Hub struct {
	cfg    Config
	seed   maphash.Seed
	shards [shardCount]shard
	clock  *clock
	filled atomic.Uint64 // messages delivered from the store by gap fills
}

type shard struct {
	mu    sync.RWMutex
	rooms map[string]*room
}

// New returns an empty hub, with its presence clock running.
func New(cfg Config) *Hub {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DedupWindow <= 0 {
		cfg.DedupWindow = 2 * time.Minute
	}
	if cfg.DedupEntries <= 0 {
		cfg.DedupEntries = 4096
	}
	if cfg.MaxBacklog <= 0 {
		cfg.MaxBacklog = DefaultMaxBacklog
	}
	if cfg.ReplayLimit <= 0 {
		cfg.ReplayLimit = 1000
	}
	if cfg.PresenceInterval <= 0 {
		cfg.PresenceInterval = DefaultPresenceInterval
	}
	if cfg.PresenceNames <= 0 {
		cfg.PresenceNames = DefaultPresenceNames
	}
	h := &Hub{cfg: cfg, seed: maphash.MakeSeed(), clock: newClock(cfg.PresenceInterval)}
	for i := range h.shards {
		h.shards[i].rooms = make(map[string]*room)
	}
	go h.clock.run(h)
	return h
}

func (h *Hub) shard(room string) *shard {
	return &h.shards[maphash.String(h.seed, room)%shardCount]
}

func (h *Hub) lookup(name string) *room {
	sh := h.shard(name)
	sh.mu.RLock()
	r := sh.rooms[name]
	sh.mu.RUnlock()
	return r
}

// Join adds s to room, creating the room if needed; joining twice is a
// no-op. When s's user was not yet present, the other members hear of the
// join in a presence diff (presence.go). It returns the number of users present after the join.
// On a durable hub, a room's first join reads its last sequence number
// from the store, within ctx.
func (h *Hub) Join(ctx context.Context, room string, s Subscriber) (int, error) {
	res, err := h.JoinReplay(ctx, room, s, Replay{})
	return res.Users, err
}

// Leave removes s from room, and frees the room when it becomes empty. When
// s was its user's last connection in the room, the remaining members
// hear of the leave in a presence diff. Leaving a room s is not in is a no-op.
func (h *Hub) Leave(room string, s Subscriber) {
	sh := h.shard(room)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.rooms[room]
	if r == nil {
		return
	}
	if r.remove(h, s) {
		h.freeLocked(sh, r)
	}
}

// free removes r from its shard if it is still empty: callers saw it
// empty, but a member may have joined since.
func (h *Hub) free(r *room) {
	sh := h.shard(r.name)
	sh.mu.Lock()
	h.freeLocked(sh, r)
	sh.mu.Unlock()
}

// freeLocked removes an empty room from its shard; sh.mu is held.
func (h *Hub) freeLocked(sh *shard, r *room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.emptyLocked() && !r.dead && sh.rooms[r.name] == r {
		delete(sh.rooms, r.name)
		r.dead = true
		r.stopHoldLocked()
		if h.cfg.Relay != nil {
			h.cfg.Relay.Unfollow(r.name)
		}
	}
}

// Publish delivers e to every member of e.Room except from, encoding it
// once per format in use. For messages it assigns the room's next sequence
// number and the time, unless e repeats a stored message (same From,
// ClientMsgID and room; see dedup.go); then nothing is delivered and the
// original's sequence and time are returned with Duplicate set. A repeat of
// a message still waiting for the store is answered, with Pending set,
// through e.Done once the original is stored or refused. from must be a
// member of the room (nil publishes on behalf of the server). A message
// whose journal is behind is refused with ErrBacklogged. ctx bounds the
// store read that looks for a repeat, made only when PublishReadsStore(e);
// the commit is the journal's, and is reported through e.Done.
func (h *Hub) Publish(ctx context.Context, e *Event, from Subscriber) (Published, error) {
	r := h.lookup(e.Room)
	if r == nil {
		return Published{}, ErrNotMember
	}
	if e.Kind == KindMessage && h.Backlogged(e.Room) {
		return Published{}, ErrBacklogged
	}
	if p, ok, err := h.findStored(ctx, e); ok || err != nil {
		return p, err
	}
	return r.publish(h, e, from)
}

// Last returns the sequence number of the last message offered to room's
// members, or 0 when nobody is in the room.
func (h *Hub) Last(room string) uint64 {
	r := h.lookup(room)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fanned
}

// RoomInfo describes one room.
type RoomInfo struct {
	Name  string
	Users int // distinct users present
	Conns int // connections that are members
}

// Rooms lists every room with at least one member, sorted by name.
func (h *Hub) Rooms() []RoomInfo {
	var out []RoomInfo
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for _, r := range sh.rooms {
			out = append(out, r.info())
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b RoomInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// RoomCount returns the number of rooms with at least one member.
func (h *Hub) RoomCount() int {
	n := 0
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		n += len(sh.rooms)
		sh.mu.RUnlock()
	}
	return n
}
