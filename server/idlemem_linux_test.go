package server_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestAnIdleConnectionHoldsOnlyWhatItNeeds checks what 10,000 idle
// connections would each pay for: once their readers are parked, guests
// in a room hold no queue array, no state of a sender and no signed-in
// identity, and share one copy of the room's name (not one sliced from
// each handshake's request line).
func TestAnIdleConnectionHoldsOnlyWhatItNeeds(t *testing.T) {
	defer server.SetParkGap(0)()
	ts := servertest.Start(t, server.Config{})
	const n = 10
	for i := range n {
		dialJSON(t, ts, "room=lobby&name="+fmt.Sprintf("idle%d", i))
	}
	dialMany(t, ts, n, "room=lobby")
	servertest.WaitFor(t, "idle connections parked with nothing queued", func() bool {
		parked, queues, actives, signed, names := server.IdleHoldings(ts.Server)
		t.Logf("parked %d, queue arrays %d, sender states %d, signed in %d, room names %d", parked, queues, actives, signed, names)
		return parked == 2*n && queues == 0 && actives == 0 && signed == 0 && names == 1
	})
}
