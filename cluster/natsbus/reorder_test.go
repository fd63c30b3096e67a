package natsbus_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
)

// TestOvertakenNoticesCostNoStoreRead has every notice overtaken by the
// next one on the way to another node: that node holds the later message
// until the earlier arrives, and delivers both in order without reading
// the store.
func TestOvertakenNoticesCostNoStoreRead(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	natsbus.SwapPairs(nodes[0].bus, true)
	const room, n = "crossed", 40 // pairs: every notice is published
	sender := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "sender", Rooms: []string{room}})
	receiver := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "receiver", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := sender.Send(servertest.Context(t), room, fmt.Sprint(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		m := servertest.Next[*client.Message](t, receiver)
		if m.Seq != uint64(i+1) || m.Text != fmt.Sprint(i+1) {
			t.Fatalf("seq %d %q, want %d in order", m.Seq, m.Text, i+1)
		}
	}
	if got := nodes[1].srv.Stats().FilledFromStore; got != 0 {
		t.Errorf("%d messages read from the store, want none: every notice arrived, only late", got)
	}
}
