package natsbus_test

import (
	"slices"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
)

// TestMentionsCrossNodes: a mention made on one node reaches every
// connection of the user on the others, joined to the room or not, and a
// guest present in the room through a third node; the user's mentions are
// listed on any node.
func TestMentionsCrossNodes(t *testing.T) {
	nodes := sharedNATS(t, 3, noCatchUp)
	const room = "mentions"
	ctx := servertest.Context(t)
	bobLogin, err := client.Register(ctx, nil, nodes[0].srv.URL(), "bob", "bob's password")
	if err != nil {
		t.Fatal(err)
	}
	alice := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Name: "alice", Rooms: []string{room}})
	bobIn := servertest.Dial(t, nodes[0].srv.URL(), client.Options{Token: bobLogin.Token, Rooms: []string{room}})
	first, err := alice.Send(ctx, room, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bobIn.Read(ctx, room, first.Seq); err != nil {
		t.Fatal(err)
	}
	bob1 := servertest.Dial(t, nodes[1].srv.URL(), client.Options{Token: bobLogin.Token})
	bob2 := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Token: bobLogin.Token})
	carol := servertest.Dial(t, nodes[2].srv.URL(), client.Options{Name: "carol", Rooms: []string{room}})
	if err := flushAll(nodes); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, "carol present on the first node", func() bool {
		who, err := alice.Who(ctx, room)
		return err == nil && slices.Contains(who, "carol")
	})
	sent, err := alice.Send(ctx, room, "@bob @carol: ship it?")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{bobIn, bob1, bob2, carol} {
		m := servertest.Next[*client.Mention](t, c)
		if m.Seq != sent.Seq || m.Room != room || m.From != "alice" || m.Text != "@bob @carol: ship it?" {
			t.Fatalf("%s got mention %s", c.Name(), m.Raw)
		}
	}
	msgs, _, err := bob2.Mentions(ctx, "", 0)
	if err != nil || len(msgs) != 1 || msgs[0].Seq != sent.Seq {
		t.Fatalf("bob's mentions on a third node: %+v, %v", msgs, err)
	}
}
