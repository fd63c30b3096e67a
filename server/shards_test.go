package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
)

// heldStore holds every Append whose batch has a message of room until
// release is called, as a slow fsync or a lock wait would.
type heldStore struct {
	store.Store
	room        string
	entered     chan struct{} // closed once an Append of room is held
	released    chan struct{}
	enterOnce   sync.Once
	releaseOnce sync.Once
}

func (s *heldStore) Append(ctx context.Context, msgs []store.Message) error {
	if slices.ContainsFunc(msgs, func(m store.Message) bool { return m.Room == s.room }) {
		s.enterOnce.Do(func() { close(s.entered) })
		select {
		case <-s.released:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Store.Append(ctx, msgs)
}

// holdAppends returns a heldStore over a new SQLite file that holds the
// appends of room. Its release is for the test to register, after the
// server's start, so that it runs before the server stops and its journals
// can drain.
func holdAppends(t *testing.T, room string) *heldStore {
	t.Helper()
	return &heldStore{
		Store: servertest.SQLite(t),
		room:  room, entered: make(chan struct{}), released: make(chan struct{}),
	}
}

func (s *heldStore) release() { s.releaseOnce.Do(func() { close(s.released) }) }

func TestSlowCommitDoesNotHoldUpRoomsOfOtherShards(t *testing.T) {
	st := holdAppends(t, "slow")
	ts := servertest.Start(t, server.Config{Store: st, StoreShards: 2, SendRate: -1})
	t.Cleanup(st.release) // before the server stops, so that its journals can drain

	other := ""
	for i := 0; other == "" && i < 1000; i++ {
		if room := fmt.Sprint("fast", i); ts.JournalShard(room) != ts.JournalShard("slow") {
			other = room
		}
	}
	if other == "" {
		t.Fatal("every room name tried shares the slow room's journal")
	}

	sender := dialJSON(t, ts, "name=sender")
	member := dialJSON(t, ts, "name=member")
	for _, c := range []*jsonClient{sender, member} {
		for _, room := range []string{"slow", other} {
			c.do(fmt.Sprintf(`{"type":"join","room":%q}`, room))
		}
	}

	sender.send(`{"type":"send","id":"s","room":"slow","text":"stuck"}`)
	select {
	case <-st.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow room's commit never started")
	}

	// The slow room's commit is held: the other room's message is stored,
	// acknowledged and delivered regardless.
	ack := sender.request(fmt.Sprintf(`{"type":"send","id":"f","room":%q,"text":"quick"}`, other))
	if ack["type"] != "ack" || ack["id"] != "f" || ack["seq"] != float64(1) {
		t.Fatalf("while slow is held, the reply to the send to %s is %v", other, ack)
	}
	if m := member.expect("message"); m["room"] != other || m["text"] != "quick" {
		t.Fatalf("while slow is held, the member got %v first", m)
	}

	st.release()
	if ack := sender.expect("ack"); ack["id"] != "s" || ack["seq"] != float64(1) {
		t.Fatalf("after the release, the reply to the send to slow is %v", ack)
	}
	if m := member.expect("message"); m["room"] != "slow" || m["text"] != "stuck" || m["seq"] != float64(1) {
		t.Fatalf("after the release, the member got %v", m)
	}
}

func TestABackedUpJournalHoldsSendersBack(t *testing.T) {
	st := holdAppends(t, "slow")
	ts := servertest.Start(t, server.Config{Store: st, StoreBacklog: 3, SendRate: -1})
	t.Cleanup(st.release)
	sender := dialJSON(t, ts, "name=sender")
	sender.do(`{"type":"join","room":"slow"}`)
	sender.send(`{"type":"send","id":"held","room":"slow","text":"0"}`)
	<-st.entered
	// The held batch has left the queue; three more fill it.
	for i := range 3 {
		sender.send(fmt.Sprintf(`{"type":"send","id":"q%d","room":"slow","text":"%d"}`, i, i+1))
	}
	r := sender.request(`{"type":"send","id":"over","room":"slow","text":"4","client_msg_id":"m4"}`)
	if r["type"] != "error" || r["id"] != "over" || r["code"] != "unavailable" {
		t.Fatalf("send beyond the backlog: %v", r)
	}
	st.release()
	// Once the store catches up, the resend goes through and nothing
	// accepted was lost.
	var ack map[string]any
	servertest.WaitFor(t, "the resend to be accepted", func() bool {
		ack = sender.request(`{"type":"send","id":"again","room":"slow","text":"4","client_msg_id":"m4"}`)
		return ack["type"] == "ack" && ack["id"] == "again"
	})
	if ack["seq"] != float64(5) {
		t.Fatalf("resend acked as %v, want seq 5 after the four accepted", ack)
	}
}
