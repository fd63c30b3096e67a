package hub

// Present reports whether the user with key (Subscriber.User) is present
// in room now, through this node or, in a cluster, another.
func (h *Hub) Present(room, key string) bool {
	r := h.lookup(room)
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.roster.byUser[key] != nil
}
