package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// At a storm's height nearly every message ends a run of reactions held
// back, whose state goes out just before it. The two arrive at each
// member together, so the writers must not take them for frames arriving
// faster than they write: that made their hold grow to its ceiling through
// every storm, and every frame of the room wait up to 30 ms more.
func TestAMessageEndingAHeldRunDoesNotGrowTheWritersHold(t *testing.T) {
	ts := servertest.Start(t, server.Config{Store: servertest.SQLite(t), Writers: 1, SendRate: -1})
	alice := dialJSON(t, ts, "room=r&name=alice")
	for i := range 30 {
		dialJSON(t, ts, fmt.Sprintf("room=r&name=m%d", i))
	}
	alice.do(`{"type":"send","id":"s","room":"r","text":"react to me"}`)
	longest := 0 * baseHold(ts)
	for i := range 60 {
		change := "react"
		if i%2 == 1 {
			change = "unreact"
		}
		// One connection's requests are handled in order: the two
		// reactions are stored before the message, which ends their run.
		alice.send(fmt.Sprintf(`{"type":%q,"id":"a%d","room":"r","target":1,"emoji":"👍"}`, change, i))
		alice.send(fmt.Sprintf(`{"type":%q,"id":"b%d","room":"r","target":1,"emoji":"🎉"}`, change, i))
		alice.send(fmt.Sprintf(`{"type":"send","id":"m%d","room":"r","text":"after %d"}`, i, i))
		for acked := 0; acked < 3; {
			switch ev := alice.event(); ev["type"] {
			case "ack":
				acked++
			case "error":
				t.Fatalf("cycle %d: %v", i, ev)
			}
		}
		if d, _ := server.WritersHold(ts.Server); d > longest {
			longest = d
		}
	}
	if longest > baseHold(ts) {
		t.Fatalf("the writers' hold grew to %v (its base is %v)", longest, baseHold(ts))
	}
}

func baseHold(ts *servertest.Server) (base time.Duration) {
	_, base = server.WritersHold(ts.Server)
	return base
}
