package natsbus

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
)

// nodesSubject carries every node's heartbeats, and its goodbye.
const nodesSubject = "chatd.nodes"

// DefaultNodeTimeout is Config.NodeTimeout's default.
const DefaultNodeTimeout = 15 * time.Second

type heartbeat struct {
	Node string `json:"node"`
	Gone bool   `json:"gone,omitempty"` // the node is shutting down
}

// seen records that node was heard from. A node heard from for the first
// time, or again after the others forgot it (it was cut off), may have
// users present that this node does not know of: every followed room asks
// again who is there.
func (b *Bus) seen(node string) {
	b.mu.Lock()
	_, known := b.lastSeen[node]
	b.lastSeen[node] = time.Now()
	var rooms []string
	if !known {
		rooms = make([]string, 0, len(b.subs))
		for room := range b.subs {
			rooms = append(rooms, room)
		}
	}
	b.mu.Unlock()
	for _, room := range rooms {
		b.publish(notice{Kind: kindHello, Room: room})
	}
}

// receiveHeartbeat runs on the nodes subscription's goroutine.
func (b *Bus) receiveHeartbeat(msg *nats.Msg) {
	var hb heartbeat
	if err := json.Unmarshal(msg.Data, &hb); err != nil || hb.Node == "" || hb.Node == b.node {
		return
	}
	if !hb.Gone {
		b.seen(hb.Node)
		return
	}
	b.mu.Lock()
	delete(b.lastSeen, hb.Node)
	b.mu.Unlock()
	if s := b.sink.Load(); s != nil {
		(*s).NodeGone(hb.Node)
	}
}

// beat sends a heartbeat when a third of NodeTimeout has passed since the
// last, and forgets the presence of the nodes not heard from for
// NodeTimeout. The catch-up loop calls it.
func (b *Bus) beat(s Sink, now time.Time) {
	if now.Sub(b.lastBeat) >= b.cfg.NodeTimeout/3 && !b.muted.Load() {
		b.lastBeat = now
		b.sendHeartbeat(false)
	}
	var dead []string
	b.mu.Lock()
	for node, at := range b.lastSeen {
		if now.Sub(at) > b.cfg.NodeTimeout {
			delete(b.lastSeen, node)
			dead = append(dead, node)
		}
	}
	b.mu.Unlock()
	for _, node := range dead {
		b.log.Warn("cluster node not heard from; its users are gone", "peer", node, "after", b.cfg.NodeTimeout)
		s.NodeGone(node)
	}
}

func (b *Bus) sendHeartbeat(gone bool) {
	data, _ := json.Marshal(heartbeat{Node: b.node, Gone: gone})
	if err := b.nc.Publish(nodesSubject, data); err != nil {
		b.log.Warn("cluster heartbeat", "err", err)
	}
}
