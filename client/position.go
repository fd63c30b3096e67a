package client

import (
	"encoding/json"

	"github.com/chatd/chatd/protocol"
)

// positions is how far the client has seen each joined room's sequence,
// so that a reconnect, to the same server or another node of its cluster,
// rejoins with since and delivers every message once. Guarded by
// Client.mu.
type positions struct {
	seq map[string]uint64 // room -> the highest seq delivered or skipped
	// own are the seqs of this connection's own sends above seq: the
	// server does not echo them live, but a since replay holds them.
	own map[string]map[uint64]bool
	// catching are the rooms being recovered on a new connection (see
	// catchUp).
	catching map[string]*catchUp
}

// joined records a join's ack: everything up to last was replayed or is
// older than what was asked for.
func (p *positions) joined(room string, last *uint64) {
	if p.seq == nil {
		p.seq, p.own = make(map[string]uint64), make(map[string]map[uint64]bool)
	}
	if last != nil {
		p.seq[room] = max(p.seq[room], *last)
	} else if _, ok := p.seq[room]; !ok {
		p.seq[room] = 0
	}
}

func (p *positions) left(room string) {
	delete(p.seq, room)
	delete(p.own, room)
}

// sent records the seq of one of the client's own sends.
func (p *positions) sent(room string, seq uint64) {
	at, ok := p.seq[room]
	if !ok || seq <= at {
		return
	}
	if p.own[room] == nil {
		p.own[room] = make(map[uint64]bool)
	}
	p.own[room][seq] = true
}

// since is the position to rejoin room from, and whether there is one.
func (p *positions) since(room string) (uint64, bool) {
	at, ok := p.seq[room]
	return at, ok
}

// fresh reports whether a room event with seq is new to the client, and
// moves the room's position to it. An event seen before (a replay that
// overlaps) or one of the client's own sends is not.
func (p *positions) fresh(room string, seq uint64) bool {
	at, ok := p.seq[room]
	if !ok || seq == 0 {
		return true // not joined yet: the replay before a first join's ack
	}
	if seq <= at {
		return false
	}
	p.seq[room] = seq
	mine := p.own[room][seq]
	for s := range p.own[room] {
		if s <= seq {
			delete(p.own[room], s)
		}
	}
	return !mine
}

// freshRun is fresh for a reactions event, which covers the seqs up to
// seq and reaches every member: it is new whenever seq is, even when the
// client's own reaction has that seq.
func (p *positions) freshRun(room string, seq uint64) bool {
	at, ok := p.seq[room]
	newer := !ok || seq == 0 || seq > at
	p.fresh(room, seq)
	return newer
}

// roomEvent is what positions needs of a room event.
type roomEvent struct {
	Room        string `json:"room"`
	Seq         uint64 `json:"seq"`
	From        string `json:"from"`
	ClientMsgID string `json:"client_msg_id"`
}

// roomSeq reads a room event that has a seq of the room's sequence: a
// message, an edit, a delete, a reaction given or taken back, or the
// reactions that stand for several (whose seq is the last they cover).
func roomSeq(typ string, b []byte) (roomEvent, bool) {
	switch typ {
	case protocol.TypeMessage, protocol.TypeEdit, protocol.TypeDelete, protocol.TypeReact, protocol.TypeUnreact, protocol.TypeReactions:
	default:
		return roomEvent{}, false
	}
	var m roomEvent
	if json.Unmarshal(b, &m) != nil || m.Room == "" {
		return roomEvent{}, false
	}
	return m, true
}
