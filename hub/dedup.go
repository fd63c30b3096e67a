package hub

import (
	"slices"
	"time"
)

// The idempotency rule, in one place: a message repeats an earlier one when
// the same author (Event.From) sent the same ClientMsgID to the same room,
// and that earlier message was stored. The room's window remembers recent
// ids, including those of messages still waiting for the store; Publish and
// Post also look the id up in the store (findStored), which remembers it
// across restarts. A message the store refused leaves no trace: its id is
// forgotten, so a resend is published as new.

// repeatKey is the window's key for e, or "" when e carries no id.
func repeatKey(e *Event) string {
	if e.ClientMsgID == "" {
		return ""
	}
	return e.From + "\x00" + e.ClientMsgID
}

// dedup remembers recent client message ids, oldest first, so that expiry
// is a trim from the front. It is guarded by its room's lock.
type dedup struct {
	ids   map[string]*dedupEntry
	order []dedupKey
}

// dedupEntry is one remembered message: stored (seq and time), or pending
// in the journal with the repeats that arrived meanwhile waiting for it.
type dedupEntry struct {
	seq     uint64
	time    time.Time
	pending bool
	waiting []func(Published, error)
}

type dedupKey struct {
	key   string
	entry *dedupEntry
}

// repeatLocked answers a repeat of d: at once if d is stored; once d's
// batch is committed (or refused) if it is pending, through done.
func (d *dedupEntry) repeatLocked(done func(Published, error)) Published {
	if !d.pending {
		return Published{Seq: d.seq, Time: d.time, Duplicate: true}
	}
	if done != nil {
		d.waiting = append(d.waiting, done)
	}
	return Published{Duplicate: true, Pending: true}
}

func (d *dedup) find(key string, now time.Time, window time.Duration) (*dedupEntry, bool) {
	i := 0
	for i < len(d.order) && now.Sub(d.order[i].entry.time) >= window && !d.order[i].entry.pending {
		i++
	}
	d.drop(i)
	e, ok := d.ids[key]
	return e, ok
}

func (d *dedup) add(key string, e *dedupEntry, max int) {
	if d.ids == nil {
		d.ids = make(map[string]*dedupEntry)
	}
	d.ids[key] = e
	d.order = append(d.order, dedupKey{key: key, entry: e})
	if len(d.order) > max {
		d.drop(len(d.order) - max)
	}
}

// remove forgets e, a message the store refused.
func (d *dedup) remove(key string, e *dedupEntry) {
	if d.ids[key] == e {
		delete(d.ids, key)
	}
	if i := slices.IndexFunc(d.order, func(k dedupKey) bool { return k.entry == e }); i >= 0 {
		d.order = slices.Delete(d.order, i, i+1)
	}
}

// drop forgets the n oldest ids. An id recorded again later keeps its
// newer entry.
func (d *dedup) drop(n int) {
	for _, k := range d.order[:n] {
		if d.ids[k.key] == k.entry {
			delete(d.ids, k.key)
		}
	}
	d.order = slices.Delete(d.order, 0, n)
}
