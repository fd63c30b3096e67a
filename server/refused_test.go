package server_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
)

// refusingStore is a real SQLite store whose Append refuses every batch
// while refuse is set, as a full disk or a PostgreSQL outage does.
type refusingStore struct {
	*sqlite.Store
	refuse atomic.Bool
}

func (s *refusingStore) Append(ctx context.Context, msgs []store.Message) error {
	if s.refuse.Load() {
		return errors.New("disk full")
	}
	return s.Store.Append(ctx, msgs)
}

func startRefusing(t *testing.T) (*servertest.Server, *refusingStore) {
	t.Helper()
	st := &refusingStore{Store: servertest.SQLite(t)}
	return servertest.Start(t, server.Config{Store: st, SendRate: -1}), st
}

func storedSeqs(t *testing.T, st store.Store, room string) []int {
	t.Helper()
	msgs, err := st.After(context.Background(), room, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(msgs))
	for i, m := range msgs {
		out[i] = int(m.Seq)
	}
	return out
}

func TestARefusedWriteLeavesNoHoleInTheSequence(t *testing.T) {
	ts, st := startRefusing(t)
	a := dialJSON(t, ts, "room=r&name=a")
	w := dialJSON(t, ts, "room=r&name=w")
	a.expect("presence_diff")
	for i := 1; i <= 2; i++ {
		a.do(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
	}
	st.refuse.Store(true)
	for i := range 5 {
		if r := a.request(fmt.Sprintf(`{"type":"send","room":"r","text":"refused %d"}`, i)); r["code"] != "unavailable" {
			t.Fatalf("send while the store refuses: %v", r)
		}
	}
	st.refuse.Store(false)
	if ack := a.do(`{"type":"send","room":"r","text":"3"}`); ack["seq"] != float64(3) {
		t.Fatalf("the first message after the refusals got seq %v, want 3", ack["seq"])
	}
	for i := 1; i <= 3; i++ {
		if m := w.expect("message"); m["seq"] != float64(i) || m["text"] != fmt.Sprint(i) {
			t.Fatalf("member got %v, want seq %d", m, i)
		}
	}
	late := dialJSON(t, ts, "name=late")
	if msgs, ack := late.joinCollect(`{"type":"join","room":"r","since":0}`); fmt.Sprint(seqs(msgs)) != "[1 2 3]" || ack["last"] != float64(3) {
		t.Fatalf("recovery replayed %v, ack %v", seqs(msgs), ack)
	}
}

// Sends in flight when the store starts and stops refusing: whatever was
// acknowledged is exactly what is stored, numbered 1, 2, 3, ... in order.
func TestAcknowledgedMessagesAreNumberedWithoutGapsAcrossAnOutage(t *testing.T) {
	ts, st := startRefusing(t)
	a := dialJSON(t, ts, "room=r&name=a")
	const perPhase = 40
	var acked []int
	refused := 0
	phase := func(refuse bool) {
		for i := range perPhase {
			a.send(fmt.Sprintf(`{"type":"send","room":"r","text":"%d"}`, i))
		}
		// Flip while the phase's sends are still on their way.
		st.refuse.Store(refuse)
		for range perPhase {
			ev := a.event()
			switch {
			case ev["type"] == "ack":
				acked = append(acked, int(ev["seq"].(float64)))
			case ev["code"] == "unavailable":
				refused++
			default:
				t.Fatalf("reply %v", ev)
			}
		}
	}
	phase(true)
	phase(false)
	phase(true)
	phase(false)
	last := a.do(`{"type":"send","room":"r","text":"last"}`)
	acked = append(acked, int(last["seq"].(float64)))
	if refused == 0 {
		t.Fatal("the store refused nothing; the test did not test")
	}
	want := make([]int, len(acked))
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(acked, want) {
		t.Fatalf("acknowledged seqs %v, want 1..%d without a gap (%d refused)", acked, len(acked), refused)
	}
	if got := storedSeqs(t, st, "r"); !slices.Equal(got, want) {
		t.Fatalf("stored seqs %v, want %v", got, want)
	}
}

func TestAResendOfARefusedSendIsStoredNotCalledADuplicate(t *testing.T) {
	ts, st := startRefusing(t)
	a := dialJSON(t, ts, "room=r&name=a")
	w := dialJSON(t, ts, "room=r&name=w")
	a.expect("presence_diff")
	st.refuse.Store(true)
	if r := a.request(`{"type":"send","room":"r","text":"hello","client_msg_id":"m1"}`); r["code"] != "unavailable" {
		t.Fatalf("send while the store refuses: %v", r)
	}
	st.refuse.Store(false)
	ack := a.do(`{"type":"send","room":"r","text":"hello","client_msg_id":"m1"}`)
	if ack["duplicate"] != nil || ack["seq"] != float64(1) {
		t.Fatalf("resend after the refusal: %v, want a new message with seq 1", ack)
	}
	if m := w.expect("message"); m["seq"] != float64(1) || m["text"] != "hello" {
		t.Fatalf("member got %v", m)
	}
	if got := storedSeqs(t, st, "r"); !slices.Equal(got, []int{1}) {
		t.Fatalf("stored %v", got)
	}
	// Now it is stored, a resend is a duplicate, also on another connection.
	a2 := dialJSON(t, ts, "room=r&name=a&session="+a.welcome["session"].(string))
	if again := a2.do(`{"type":"send","room":"r","text":"hello","client_msg_id":"m1"}`); again["duplicate"] != true || again["seq"] != float64(1) {
		t.Fatalf("resend of a stored message: %v", again)
	}
}

// committedButFailedStore commits every batch and then reports an error,
// as a connection lost during COMMIT does.
type committedButFailedStore struct {
	*sqlite.Store
	fail atomic.Bool
}

func (s *committedButFailedStore) Append(ctx context.Context, msgs []store.Message) error {
	if err := s.Store.Append(ctx, msgs); err != nil || !s.fail.Load() {
		return err
	}
	return errors.New("connection lost during commit")
}

// A batch reported as failed that was committed after all: a resend finds
// it in the store, and the room numbers on after it instead of reusing its
// number.
func TestACommitReportedAsFailedIsFoundAndNumberingGoesOn(t *testing.T) {
	st := &committedButFailedStore{Store: servertest.SQLite(t)}
	ts := servertest.Start(t, server.Config{Store: st, SendRate: -1})
	a := dialJSON(t, ts, "room=r&name=a")
	st.fail.Store(true)
	if r := a.request(`{"type":"send","room":"r","text":"lost ack","client_msg_id":"m1"}`); r["code"] != "unavailable" {
		t.Fatalf("send with a failed commit: %v", r)
	}
	st.fail.Store(false)
	if again := a.do(`{"type":"send","room":"r","text":"lost ack","client_msg_id":"m1"}`); again["duplicate"] != true || again["seq"] != float64(1) {
		t.Fatalf("resend of a committed message: %v", again)
	}
	if next := a.do(`{"type":"send","room":"r","text":"next"}`); next["seq"] != float64(2) {
		t.Fatalf("the next message got %v, want seq 2", next)
	}
}

// A resend that arrives while the first send is still being stored is
// answered once the first is: the first as new, the resend as its
// duplicate, and the message is stored once.
func TestAResendWhileTheFirstIsStoredIsAnsweredWhenItIs(t *testing.T) {
	st := holdAppends(t, "r")
	ts := servertest.Start(t, server.Config{Store: st, SendRate: -1})
	t.Cleanup(st.release)
	a := dialJSON(t, ts, "room=r&name=a")
	a2 := dialJSON(t, ts, "room=r&name=a&session="+a.welcome["session"].(string))
	a.send(`{"type":"send","id":"first","room":"r","text":"once","client_msg_id":"m1"}`)
	<-st.entered
	a2.send(`{"type":"send","id":"again","room":"r","text":"once","client_msg_id":"m1"}`)
	// Nothing to say about the resend until the store has answered: the
	// next reply is that of a later request.
	if r := a2.request(`{"type":"who","id":"who","room":"r"}`); r["id"] != "who" {
		t.Fatalf("while the first send is being stored, the resend got %v", r)
	}
	st.release()
	if ack := a.expect("ack"); ack["id"] != "first" || ack["duplicate"] != nil || ack["seq"] != float64(1) {
		t.Fatalf("first send: %v", ack)
	}
	if m := a2.expect("message"); m["seq"] != float64(1) { // the user's other connection gets the message
		t.Fatalf("message %v", m)
	}
	if ack := a2.expect("ack"); ack["id"] != "again" || ack["duplicate"] != true || ack["seq"] != float64(1) {
		t.Fatalf("resend: %v", ack)
	}
	if got := storedSeqs(t, st, "r"); !slices.Equal(got, []int{1}) {
		t.Fatalf("stored %v", got)
	}
}
