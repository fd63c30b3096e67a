package client_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestRoomsGathersEveryPageOfALongList(t *testing.T) {
	// A reply budget of 4 KiB holds about 50 of these rooms.
	ts := servertest.Start(t, server.Config{ReplyBytes: 4 << 10})
	var names []string
	for i := range 200 {
		names = append(names, fmt.Sprintf("%s-%03d", strings.Repeat("r", 60), i))
	}
	for i := 0; i < len(names); i += 100 {
		servertest.Dial(t, ts.URL(), client.Options{Name: fmt.Sprint("member", i), Rooms: names[i : i+100]})
	}
	c := servertest.Dial(t, ts.URL(), client.Options{Name: "alice"})
	rooms, err := c.Rooms(servertest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != len(names) {
		t.Fatalf("Rooms returned %d rooms, want %d", len(rooms), len(names))
	}
	for i, r := range rooms {
		if r.Room != names[i] || r.Members != 1 {
			t.Fatalf("room %d is %+v, want %s with one member", i, r, names[i])
		}
	}
}

func TestSendsOverTheByteAllowanceWaitAsTheServerSays(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	a := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"r"}})
	// Each message costs 60 KB of the 128 KiB per second allowance: from
	// the fifth on each waits, paced by the welcome's send_byte_rate, or
	// refused once with the time to wait should the two clocks disagree.
	text := strings.Repeat("x", 60000)
	const n = 8
	for i := range n {
		ack, err := a.Send(servertest.Context(t), "r", text)
		if err != nil || ack.Seq != uint64(i+1) {
			t.Fatalf("send %d: %v %+v", i, err, ack)
		}
	}
	// A client that retried on its own schedule would be refused many
	// times per message, each a strike towards being closed.
	if refused := ts.Stats().RequestErrors["rate_limited"]; refused > n {
		t.Fatalf("%d sends were refused %d times", n, refused)
	}
}
