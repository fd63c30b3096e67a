package natsbus_test

import (
	"testing"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/cluster/natsbus"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/server"
)

// TestANameTakenDuringACutIsGivenUpAfter cuts one node off from
// PostgreSQL for longer than the name lease: another node gives its
// guest's name to someone else meanwhile, and once the cut node reaches
// the database again it gives the name up (its guest is closed with
// 4002), so that two users share a name only while the cut lasts.
func TestANameTakenDuringACutIsGivenUpAfter(t *testing.T) {
	dsn := schemaDSN(t)
	cutDSN, pg := proxiedDSN(t, dsn)
	opts := func(c *server.Config) { c.NameLease = nameLease }
	first := startNode(t, cutDSN, natsbus.Config{Listen: "127.0.0.1:0", NodeID: "n1", CatchUpInterval: noCatchUp}, opts)
	second := startNode(t, dsn, natsbus.Config{URLs: first.bus.ClientURL(), NodeID: "n2", CatchUpInterval: noCatchUp}, opts)

	zed := dialRaw(t, first, "?name=zed", "")
	zed.must("welcome")
	refused(t, second, "?name=zed")
	pg.cut()
	other := eventually(t, second, "?name=zed", nameLease+servertest.Wait)
	other.must("welcome")
	pg.restore()

	// Within a renewal (a third of the lease) of the database's return.
	_, err := zed.next("never")
	if code := websocket.CloseStatus(err); int(code) != int(protocol.CloseNameClaimed) {
		t.Fatalf("the cut node's zed: %v, want close %d", err, protocol.CloseNameClaimed)
	}
	refused(t, first, "?name=zed")
	other.send(protocol.Request{Type: protocol.TypeJoin, ID: "1", Room: "r"})
	if ack := other.must("ack"); ack["room"] != "r" {
		t.Fatalf("the other zed, still connected: %v", ack)
	}
}
