package hub

import "sync"

// room is one room's member set. Members live in a slice so that fan-out is
// a linear scan; pos makes removal O(1) by swapping with the last member.
type room struct {
	mu      sync.Mutex
	members []Subscriber
	pos     map[Subscriber]int
}

func newRoom() *room {
	return &room{pos: make(map[Subscriber]int)}
}

func (r *room) add(s Subscriber) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.pos[s]; !ok {
		r.pos[s] = len(r.members)
		r.members = append(r.members, s)
	}
	return len(r.members)
}

func (r *room) remove(s Subscriber) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.pos[s]
	if !ok {
		return len(r.members)
	}
	last := len(r.members) - 1
	moved := r.members[last]
	r.members[i] = moved
	r.pos[moved] = i
	r.members[last] = nil
	r.members = r.members[:last]
	delete(r.pos, s)
	return last
}

func (r *room) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// publish holds the room lock for the whole fan-out: that lock is what gives
// every member the room's messages in one order.
func (r *room) publish(encode Encoder, m *Message, from Subscriber) int {
	var frames [MaxFormats][]byte
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.members {
		if s == from {
			continue
		}
		f := s.Format()
		if frames[f] == nil {
			frames[f] = encode(f, m)
		}
		s.Deliver(frames[f])
		n++
	}
	return n
}
