package client_test

import (
	"reflect"
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// TestMentions: a Mention event reaches the user's client that joined no
// room, Mentions pages the kept ones, and the welcome's unread mentions
// come back with the next connection.
func TestMentions(t *testing.T) {
	st := servertest.SQLite(t)
	ts := servertest.Start(t, server.Config{Store: st, Accounts: st, PasswordParams: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	ctx := servertest.Context(t)
	bobLogin, err := client.Register(ctx, nil, ts.URL(), "bob", "bob's password")
	if err != nil {
		t.Fatal(err)
	}
	bobIn := servertest.Dial(t, ts.URL(), client.Options{Token: bobLogin.Token, Rooms: []string{"r"}})
	bob := servertest.Dial(t, ts.URL(), client.Options{Token: bobLogin.Token})
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"r"}})
	var seqs []uint64
	for _, text := range []string{"hi @bob", "again @Bob."} {
		ack, err := alice.Send(ctx, "r", text)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Seq)
		if m := servertest.Next[*client.Mention](t, bob); m.Seq != ack.Seq || m.Room != "r" || m.From != "alice" || m.Text != text {
			t.Fatalf("bob's mention = %+v; want seq %d", m, ack.Seq)
		}
	}
	page, next, err := bob.Mentions(ctx, "", 1)
	if err != nil || len(page) != 1 || page[0].Seq != seqs[1] || next == "" {
		t.Fatalf("first page: %+v, %q, %v", page, next, err)
	}
	page, next, err = bob.Mentions(ctx, next, 1)
	if err != nil || len(page) != 1 || page[0].Seq != seqs[0] {
		t.Fatalf("second page: %+v, %q, %v", page, next, err)
	}
	if _, err := bobIn.Read(ctx, "r", seqs[0]); err != nil {
		t.Fatal(err)
	}
	again := servertest.Dial(t, ts.URL(), client.Options{Token: bobLogin.Token})
	if got, want := again.UnreadMentions(), map[string][]uint64{"r": {seqs[1]}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("unread mentions = %v; want %v", got, want)
	}

	// A delete takes the mention back.
	del, err := alice.Delete(ctx, "r", seqs[1])
	if err != nil {
		t.Fatal(err)
	}
	if u := servertest.Next[*client.Unmention](t, bob); u.Seq != del.Seq || u.Room != "r" || u.Target != seqs[1] || u.Mention != seqs[1] {
		t.Fatalf("bob's unmention = %+v; want seq %d, target and mention %d", u, del.Seq, seqs[1])
	}
	if got := servertest.Dial(t, ts.URL(), client.Options{Token: bobLogin.Token}).UnreadMentions(); len(got) != 0 {
		t.Fatalf("unread mentions after the delete = %v; want none", got)
	}
}
