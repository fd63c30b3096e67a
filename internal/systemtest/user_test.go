package systemtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/protocol"
)

// user is a JSON client of the cluster that records what it receives and
// what its sends were acknowledged as.
type user struct {
	name string
	c    *client.Client
	done chan struct{} // closed when its events have ended

	mu           sync.Mutex
	got          map[string][]protocol.Message // room -> messages received, in order
	acked        map[string]map[string]uint64  // room -> text -> seq acknowledged
	disconnected []time.Time
	reconnected  []time.Time
}

// startUser connects name to url (and the more servers in urls, tried
// when it reconnects), joins rooms and records its events until the test
// ends.
func startUser(t *testing.T, name, url string, urls, rooms []string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{Name: name, Rooms: rooms, URLs: urls, Reconnect: true,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", url, name, err)
	}
	u := &user{name: name, c: c, done: make(chan struct{}), got: map[string][]protocol.Message{},
		acked: map[string]map[string]uint64{}}
	go u.read()
	t.Cleanup(func() {
		c.Close()
		<-u.done
	})
	return u
}

func (u *user) read() {
	defer close(u.done)
	for ev := range u.c.Events() {
		u.mu.Lock()
		switch e := ev.(type) {
		case *client.Message:
			u.got[e.Room] = append(u.got[e.Room], e.Message)
		case *client.Disconnected:
			u.disconnected = append(u.disconnected, time.Now())
		case *client.Reconnected:
			u.reconnected = append(u.reconnected, time.Now())
		}
		u.mu.Unlock()
	}
}

// sendEvery sends to rooms in turn, one message every interval, until stop
// is closed; each send waits for its ack, through reconnects.
func (u *user) sendEvery(ctx context.Context, t *testing.T, interval time.Duration, rooms []string, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		room := rooms[i%len(rooms)]
		text := fmt.Sprintf("%s %d", u.name, i)
		ack, err := u.c.SendID(ctx, room, text, client.NewMsgID())
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("%s's send %d: %v", u.name, i, err)
			}
			return
		}
		u.mu.Lock()
		if u.acked[room] == nil {
			u.acked[room] = map[string]uint64{}
		}
		u.acked[room][text] = ack.Seq
		u.mu.Unlock()
	}
}

func (u *user) ackedCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, m := range u.acked {
		n += len(m)
	}
	return n
}

// seqs returns the seqs of the messages u received in room.
func (u *user) seqs(room string) []uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := make([]uint64, len(u.got[room]))
	for i, m := range u.got[room] {
		s[i] = m.Seq
	}
	return s
}

// reconnectedAfter returns how long after at u had reconnected, and
// whether it lost its connection after at at all.
func (u *user) reconnectedAfter(at time.Time) (time.Duration, bool, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	lost := false
	for _, d := range u.disconnected {
		lost = lost || !d.Before(at)
	}
	for _, r := range u.reconnected {
		if !r.Before(at) {
			return r.Sub(at), lost, true
		}
	}
	return 0, lost, false
}
