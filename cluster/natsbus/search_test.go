package natsbus_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
)

// TestSearchCrossNodes: a search on one node finds what was sent and
// edited on another, in its current state, since the index lives in the
// shared PostgreSQL, and opens it in context there.
func TestSearchCrossNodes(t *testing.T) {
	nodes := sharedNATS(t, 2, noCatchUp)
	const room = "searched"
	alice := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	ctx := servertest.Context(t)
	var seqs []uint64
	for _, text := range []string{"before", "the first draft", "after"} {
		ack, err := alice.Send(ctx, room, text)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Seq)
	}
	if _, err := alice.Edit(ctx, room, seqs[1], "the final copy"); err != nil {
		t.Fatal(err)
	}
	bob := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Name: "bob"})
	for q, want := range map[string]string{"draft": "[]", "final": fmt.Sprintf("[%s/%d]", room, seqs[1])} {
		p, err := bob.Search(ctx, client.Search{Q: q})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range p.Hits {
			got = append(got, fmt.Sprintf("%s/%d", h.Room, h.Seq))
		}
		if fmt.Sprint(got) != want {
			t.Fatalf("search %q on the other node: %v; want %s", q, got, want)
		}
	}
	msgs, _, err := bob.Around(ctx, room, seqs[1], 3)
	if err != nil || len(msgs) != 3 || msgs[1].Seq != seqs[1] || msgs[1].Text != "the final copy" {
		t.Fatalf("around the hit on the other node: %+v, %v", msgs, err)
	}
}
