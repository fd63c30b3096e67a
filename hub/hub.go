package hub

import (
	"hash/maphash"
	"sync"
)

// Format selects one encoding of a message; the hub asks Encoder for each
// format at most once per message.
type Format uint8

// MaxFormats bounds the number of distinct formats in one process.
const MaxFormats = 4

// Subscriber is a member of one or more rooms.
type Subscriber interface {
	// Deliver offers an encoded frame to the subscriber. The hub calls it with
	// a room lock held, so it must not block, perform I/O or call into the
	// hub. The frame is shared by every recipient and must not be modified.
	Deliver(frame []byte)
	// Format is the encoding the subscriber receives. It must not change
	// while the subscriber is a member of any room.
	Format() Format
}

// Message is one chat message published to a room.
type Message struct {
	Room string
	From string
	Text []byte
}

// Encoder returns the frame carrying m in format f.
type Encoder func(f Format, m *Message) []byte

const shardCount = 64

// Hub is the set of rooms of one process. The zero value is not usable; call New.
type Hub struct {
	encode Encoder
	seed   maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu    sync.RWMutex
	rooms map[string]*room
}

// New returns an empty hub that encodes messages with encode.
func New(encode Encoder) *Hub {
	h := &Hub{encode: encode, seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].rooms = make(map[string]*room)
	}
	return h
}

func (h *Hub) shard(room string) *shard {
	return &h.shards[maphash.String(h.seed, room)%shardCount]
}

// Join adds s to room, creating the room if needed. Joining a room twice is
// a no-op. It returns the number of members after the join.
func (h *Hub) Join(room string, s Subscriber) int {
	sh := h.shard(room)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.rooms[room]
	if r == nil {
		r = newRoom()
		sh.rooms[room] = r
	}
	return r.add(s)
}

// Leave removes s from room and frees the room when it becomes empty.
// Leaving a room s is not in is a no-op.
func (h *Hub) Leave(room string, s Subscriber) {
	sh := h.shard(room)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.rooms[room]
	if r == nil {
		return
	}
	if r.remove(s) == 0 {
		delete(sh.rooms, room)
	}
}

// Publish delivers m to every member of m.Room except from (which may be
// nil), encoding it once per format in use. It returns the number of
// members the message was offered to.
func (h *Hub) Publish(m *Message, from Subscriber) int {
	sh := h.shard(m.Room)
	sh.mu.RLock()
	r := sh.rooms[m.Room]
	sh.mu.RUnlock()
	if r == nil {
		return 0
	}
	return r.publish(h.encode, m, from)
}

// Members returns the number of members of room.
func (h *Hub) Members(room string) int {
	sh := h.shard(room)
	sh.mu.RLock()
	r := sh.rooms[room]
	sh.mu.RUnlock()
	if r == nil {
		return 0
	}
	return r.size()
}

// Rooms returns the number of rooms that have at least one member.
func (h *Hub) Rooms() int {
	n := 0
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		n += len(sh.rooms)
		sh.mu.RUnlock()
	}
	return n
}
