package client_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/server"
)

func TestJoinSendReceive(t *testing.T) {
	ts := servertest.Start(t, server.Config{PresenceInterval: 20 * time.Millisecond})
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Rooms: []string{"Go"}})
	if alice.Name() != "alice" || alice.Session() == "" {
		t.Fatalf("name %q session %q", alice.Name(), alice.Session())
	}
	if got := alice.Joined(); !slices.Equal(got, []string{"go"}) {
		t.Fatalf("alice joined %v", got)
	}
	bob := servertest.Dial(t, ts.URL(), client.Options{Name: "bob"})
	members, err := bob.Join(servertest.Context(t), "go")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(members.Names, []string{"alice", "bob"}) || members.Users != 2 {
		t.Fatalf("members %+v", members)
	}
	if p := servertest.Next[*client.PresenceDiff](t, alice); !slices.Equal(p.Joins, []string{"bob"}) || p.Leaves != nil || p.Room != "go" || p.Users != 2 {
		t.Fatalf("presence %s", p.Raw)
	}

	ack, err := alice.Send(servertest.Context(t), "go", "hello, bob")
	if err != nil {
		t.Fatal(err)
	}
	if ack.Seq != 1 || ack.Time().IsZero() || ack.Duplicate {
		t.Fatalf("ack %s", ack.Raw)
	}
	m := servertest.Next[*client.Message](t, bob)
	if m.Room != "go" || m.From != "alice" || m.Text != "hello, bob" || m.Seq != 1 || m.ClientMsgID == "" {
		t.Fatalf("message %s", m.Raw)
	}
	if d := time.Since(m.Time()); d < 0 || d > time.Minute {
		t.Fatalf("message time %v", m.Time())
	}

	// A send repeated with the same client_msg_id is acknowledged again
	// and not delivered twice.
	ack2, err := alice.SendID(servertest.Context(t), "go", "hello, bob", m.ClientMsgID)
	if err != nil || !ack2.Duplicate || ack2.Seq != 1 {
		t.Fatalf("repeated send: %v %+v", err, ack2)
	}
	if _, err := bob.Send(servertest.Context(t), "go", "hi alice"); err != nil {
		t.Fatal(err)
	}
	if m := servertest.Next[*client.Message](t, alice); m.Text != "hi alice" || m.Seq != 2 {
		t.Fatalf("alice got %s", m.Raw)
	}

	who, err := alice.Who(servertest.Context(t), "GO")
	if err != nil || !slices.Equal(who, []string{"alice", "bob"}) {
		t.Fatalf("who: %v %v", who, err)
	}
	rooms, err := alice.Rooms(servertest.Context(t))
	if err != nil || !slices.Equal(rooms, []protocol.RoomInfo{{Room: "go", Members: 2}}) {
		t.Fatalf("rooms: %v %v", rooms, err)
	}
	if err := bob.Typing(servertest.Context(t), "go"); err != nil {
		t.Fatal(err)
	}
	if ty := servertest.Next[*client.Typing](t, alice); ty.From != "bob" || ty.Room != "go" {
		t.Fatalf("typing %s", ty.Raw)
	}
	if err := bob.Leave(servertest.Context(t), "go"); err != nil {
		t.Fatal(err)
	}
	if p := servertest.Next[*client.PresenceDiff](t, alice); !slices.Equal(p.Leaves, []string{"bob"}) || p.Joins != nil || p.Users != 1 {
		t.Fatalf("presence %s", p.Raw)
	}
	if got := bob.Joined(); len(got) != 0 {
		t.Fatalf("bob still in %v", got)
	}
}

func TestServerErrors(t *testing.T) {
	ts := servertest.Start(t, server.Config{MaxRooms: 1, MaxMessageBytes: 512})
	c := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"lobby"}})
	if !strings.HasPrefix(c.Name(), "guest-") {
		t.Fatalf("guest name %q", c.Name())
	}
	check := func(what, code string, err error) {
		t.Helper()
		var se *client.ServerError
		if !errors.As(err, &se) || se.Code != code {
			t.Fatalf("%s: want %s, got %v", what, code, err)
		}
		if client.ErrorCode(err) != code || se.Message == "" {
			t.Fatalf("%s: ErrorCode %q, message %q", what, client.ErrorCode(err), se.Message)
		}
	}
	_, err := c.Send(servertest.Context(t), "elsewhere", "hi")
	check("send to a room not joined", protocol.CodeNotMember, err)
	_, err = c.Who(servertest.Context(t), "empty")
	check("who in an empty room", protocol.CodeUnknownRoom, err)
	_, err = c.Join(servertest.Context(t), "no spaces")
	check("join an invalid room", protocol.CodeInvalidRoom, err)
	_, err = c.Join(servertest.Context(t), "second")
	check("join beyond max rooms", protocol.CodeRoomLimit, err)
	_, err = c.DM(servertest.Context(t), "nobody", "hi")
	check("dm to nobody", protocol.CodeUnknownUser, err)
	check("leave a room not joined", protocol.CodeNotMember, c.Leave(servertest.Context(t), "second"))

	// Too large for the server: refused by the client, which stays usable.
	var tl *client.TooLargeError
	if _, err := c.Send(servertest.Context(t), "lobby", strings.Repeat("x", 600)); !errors.As(err, &tl) || tl.Limit != 512 {
		t.Fatalf("oversized send: %v", err)
	}
	if _, err := c.Send(servertest.Context(t), "lobby", "still here"); err != nil {
		t.Fatal(err)
	}

	// Handshake refusals.
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice"})
	_, err = client.Dial(servertest.Context(t), ts.URL(), client.Options{Name: "Alice"})
	var he *client.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusConflict || he.Temporary() || !strings.Contains(he.Reason, "session") {
		t.Fatalf("taken name: %v", err)
	}
	// A guest- name without its token makes a new guest.
	g := servertest.Dial(t, ts.URL(), client.Options{Name: "guest-1"})
	if g.Name() == "guest-1" {
		t.Fatal("took a guest name without its token")
	}
	_, err = client.Dial(servertest.Context(t), ts.URL(), client.Options{Name: "no spaces allowed"})
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid name: %v", err)
	}
	// With the session token, a second connection as the same user.
	alice2 := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Session: alice.Session()})
	if alice2.Name() != "alice" {
		t.Fatalf("second device is %q", alice2.Name())
	}
}

func TestRateLimitedSendIsRetried(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: 20, SendBurst: 1})
	a := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"r"}})
	b := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"r"}})
	for i := range 4 {
		ack, err := a.Send(servertest.Context(t), "r", "m")
		if err != nil || ack.Seq != uint64(i+1) {
			t.Fatalf("send %d: %v %+v", i, err, ack)
		}
	}
	for i := range 4 {
		if m := servertest.Next[*client.Message](t, b); m.Seq != uint64(i+1) {
			t.Fatalf("got seq %d, want %d", m.Seq, i+1)
		}
	}
}

func TestDM(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice"})
	bob := servertest.Dial(t, ts.URL(), client.Options{Name: "bob"})
	ack, err := alice.DM(servertest.Context(t), "BOB", "lunch?")
	if err != nil || ack.Time().IsZero() {
		t.Fatalf("dm: %v %+v", err, ack)
	}
	dm := servertest.Next[*client.DM](t, bob)
	if dm.From != "alice" || dm.To != "bob" || dm.Text != "lunch?" || dm.ClientMsgID == "" {
		t.Fatalf("dm %s", dm.Raw)
	}
}

func TestCloseWithUnreadEvents(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: -1})
	// The listener never reads its events: its reader blocks on the full
	// channel, and Close must still end it promptly.
	listener := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"r"}, EventBuffer: 1})
	sender := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"r"}, DiscardEvents: true})
	for range 10 {
		if _, err := sender.Send(servertest.Context(t), "r", "x"); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := listener.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	<-listener.Done()
	if !errors.Is(listener.Err(), client.ErrClosed) {
		t.Fatalf("Err after Close: %v", listener.Err())
	}
	if _, err := listener.Send(servertest.Context(t), "r", "x"); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("send after Close: %v", err)
	}
	n := 0
	for range listener.Events() {
		n++
	}
	if n > 1 {
		t.Fatalf("%d events buffered, want at most 1", n)
	}
	if err := listener.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConnectionLostWithoutReconnect(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	c := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"r"}})
	ts.Stop(t)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client did not end")
	}
	if err := c.Err(); err == nil || errors.Is(err, client.ErrClosed) || !strings.Contains(err.Error(), "1001") {
		t.Fatalf("Err: %v", err)
	}
	if _, err := c.Send(servertest.Context(t), "r", "x"); err == nil {
		t.Fatal("send after the end succeeded")
	}
}

func TestReconnect(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	opts := client.Options{Name: "alice", Rooms: []string{"a", "b"}, Reconnect: true, MinBackoff: 20 * time.Millisecond}
	alice := servertest.Dial(t, ts.URL(), opts)
	if _, err := alice.Send(servertest.Context(t), "a", "before"); err != nil {
		t.Fatal(err)
	}
	ts.Stop(t)
	if d := servertest.Next[*client.Disconnected](t, alice); !strings.Contains(d.Err.Error(), "1001") {
		t.Fatalf("disconnected: %v", d.Err)
	}
	// A send while the server is away waits for the reconnect.
	sent := make(chan error, 1)
	go func() {
		_, err := alice.Send(servertest.Context(t), "b", "after")
		sent <- err
	}()
	time.Sleep(50 * time.Millisecond)

	ts2 := servertest.StartAt(t, server.Config{}, ts.Addr)
	r := servertest.Next[*client.Reconnected](t, alice)
	if r.Name != "alice" || !slices.Equal(r.Rooms, []string{"a", "b"}) || r.Err != nil {
		t.Fatalf("reconnected %+v", r)
	}
	if err := <-sent; err != nil {
		t.Fatalf("send across the reconnect: %v", err)
	}
	bob := servertest.Dial(t, ts2.URL(), client.Options{Name: "bob", Rooms: []string{"b"}})
	who, err := bob.Who(servertest.Context(t), "b")
	if err != nil || !slices.Equal(who, []string{"alice", "bob"}) {
		t.Fatalf("who: %v %v", who, err)
	}
	ack, err := alice.Send(servertest.Context(t), "b", "again")
	if err != nil || ack.Seq != 2 {
		t.Fatalf("send: %v %+v", err, ack)
	}
	if m := servertest.Next[*client.Message](t, bob); m.From != "alice" || m.Text != "again" {
		t.Fatalf("bob got %s", m.Raw)
	}
	if alice.Name() != "alice" || !slices.Equal(alice.Joined(), []string{"a", "b"}) {
		t.Fatalf("after reconnect: %q in %v", alice.Name(), alice.Joined())
	}
}

func TestReconnectGivesUpWhenNameTaken(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	alice := servertest.Dial(t, ts.URL(), client.Options{Name: "alice", Reconnect: true, MinBackoff: 300 * time.Millisecond})
	ts.Stop(t)
	servertest.Next[*client.Disconnected](t, alice)
	ts2 := servertest.StartAt(t, server.Config{}, ts.Addr)
	servertest.Dial(t, ts2.URL(), client.Options{Name: "alice"}) // someone else takes the name
	select {
	case <-alice.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client kept reconnecting")
	}
	var he *client.HandshakeError
	if !errors.As(alice.Err(), &he) || he.StatusCode != http.StatusConflict {
		t.Fatalf("Err: %v", alice.Err())
	}
}
