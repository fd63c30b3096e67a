package hub_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/hub"
)

// sink is a Subscriber that records what it is offered.
type sink struct {
	user   string
	format hub.Format
	mu     sync.Mutex
	got    []string
	drops  []bool
}

func newSink(user string) *sink { return &sink{user: user} }

func (s *sink) Deliver(frame []byte, droppable bool) {
	s.mu.Lock()
	s.got = append(s.got, string(frame))
	s.drops = append(s.drops, droppable)
	s.mu.Unlock()
}

func (s *sink) Format() hub.Format { return s.format }
func (s *sink) User() string       { return s.user }
func (s *sink) Name() string       { return s.user }

func (s *sink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// encoder renders events as short strings, counts its calls, and gives
// format 1 no typing events.
func encoder(calls *atomic.Int64) hub.Encoder {
	return func(f hub.Format, e *hub.Event) []byte {
		calls.Add(1)
		switch e.Kind {
		case hub.KindMessage:
			return fmt.Appendf(nil, "%d:msg %s #%d %s", f, e.Room, e.Seq, e.Text)
		case hub.KindPresence:
			return fmt.Appendf(nil, "%d:presence %s +%s -%s %d", f, e.Room, strings.Join(e.Presence.Joins, ","), strings.Join(e.Presence.Leaves, ","), e.Presence.Users)
		case hub.KindTyping:
			if f == 1 {
				return nil
			}
			return fmt.Appendf(nil, "%d:typing %s", f, e.From)
		}
		return nil
	}
}

func newHub(t testing.TB, calls *atomic.Int64) *hub.Hub {
	if calls == nil {
		calls = new(atomic.Int64)
	}
	return start(t, hub.Config{Encode: encoder(calls)})
}

// start returns a hub that the test closes when it ends.
func start(t testing.TB, cfg hub.Config) *hub.Hub {
	h := hub.New(cfg)
	t.Cleanup(h.Close)
	return h
}

func publish(t *testing.T, h *hub.Hub, from hub.Subscriber, room, text string) hub.Published {
	t.Helper()
	p, err := h.Publish(t.Context(), &hub.Event{Kind: hub.KindMessage, Room: room, Text: []byte(text)}, from)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublishReachesEveryMemberButTheSender(t *testing.T) {
	var calls atomic.Int64
	h := newHub(t, &calls)
	a, b, c, other := newSink("a"), newSink("b"), newSink("c"), newSink("o")
	for _, s := range []*sink{a, b, c} {
		h.Join(t.Context(), "r", s)
	}
	h.Join(t.Context(), "elsewhere", other)
	for _, s := range []*sink{a, b, c} {
		s.got = nil
	}
	calls.Store(0)

	if p := publish(t, h, a, "r", "hi"); p.Delivered != 2 || p.Seq != 1 {
		t.Fatalf("published %+v, want seq 1 offered to 2", p)
	}
	if got := a.messages(); len(got) != 0 {
		t.Fatalf("sender got %q", got)
	}
	for _, s := range []*sink{b, c} {
		if got := s.messages(); !slices.Equal(got, []string{"0:msg r #1 hi"}) {
			t.Fatalf("member got %q", got)
		}
	}
	if got := other.messages(); len(got) != 0 {
		t.Fatalf("other room got %q", got)
	}
	if calls.Load() != 1 {
		t.Fatalf("encoded %d times for one format, want once", calls.Load())
	}
}

func TestSequenceIsPerRoomAndIncreasing(t *testing.T) {
	h := newHub(t, nil)
	a, b := newSink("a"), newSink("b")
	h.Join(t.Context(), "x", a)
	h.Join(t.Context(), "y", a)
	h.Join(t.Context(), "x", b)
	for i := 1; i <= 3; i++ {
		if p := publish(t, h, a, "x", "m"); p.Seq != uint64(i) {
			t.Fatalf("x seq %d, want %d", p.Seq, i)
		}
	}
	if p := publish(t, h, a, "y", "m"); p.Seq != 1 {
		t.Fatalf("y seq %d, want 1", p.Seq)
	}
}

func TestEncodesOncePerFormat(t *testing.T) {
	var calls atomic.Int64
	h := newHub(t, &calls)
	subs := []*sink{{user: "a"}, {user: "b", format: 1}, {user: "c"}, {user: "d", format: 1}}
	for _, s := range subs {
		h.Join(t.Context(), "r", s)
	}
	calls.Store(0)
	publish(t, h, nil, "r", "x")
	if calls.Load() != 2 {
		t.Fatalf("encoded %d times, want 2 (one per format)", calls.Load())
	}
	for _, s := range subs {
		msgs := s.messages()
		if got, want := msgs[len(msgs)-1], fmt.Sprintf("%d:msg r #1 x", s.format); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestPresenceCountsUsersNotConnections(t *testing.T) {
	h := start(t, hub.Config{Encode: encoder(new(atomic.Int64)), PresenceInterval: 10 * time.Millisecond})
	watcher := newSink("w")
	h.Join(t.Context(), "r", watcher)
	phone, laptop := newSink("alice"), newSink("alice")
	if n, _ := h.Join(t.Context(), "r", phone); n != 2 {
		t.Fatalf("users after alice's first connection: %d, want 2", n)
	}
	waitFor(t, watcher, []string{"0:presence r +alice - 2"})
	if n, _ := h.Join(t.Context(), "r", laptop); n != 2 {
		t.Fatalf("users after alice's second connection: %d, want 2", n)
	}
	if got, n := h.MembersAfter("r", "", 10, nil); !slices.Equal(got, []string{"alice", "w"}) || n != 2 {
		t.Fatalf("members %q, %d users", got, n)
	}
	h.Leave("r", phone)
	h.Leave("r", laptop)
	waitFor(t, watcher, []string{"0:presence r +alice - 2", "0:presence r + -alice 1"})
	if got := laptop.messages(); len(got) != 0 {
		t.Fatalf("alice's second connection was told of her own presence: %q", got)
	}
}

// waitFor polls until s has been offered exactly want, or fails the test.
func waitFor(t *testing.T, s *sink, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(s.messages(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s got %q, want %q", s.user, s.messages(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDuplicateClientMsgIDIsNotDeliveredTwice(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := start(t, hub.Config{Encode: encoder(new(atomic.Int64)), Now: func() time.Time { return now }, DedupWindow: time.Minute})
	a, b := newSink("a"), newSink("b")
	h.Join(t.Context(), "r", a)
	h.Join(t.Context(), "r", b)
	send := func(id string) hub.Published {
		p, err := h.Publish(t.Context(), &hub.Event{Kind: hub.KindMessage, Room: "r", Text: []byte("t"), ClientMsgID: id}, a)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := send("m1")
	again := send("m1")
	if !again.Duplicate || again.Seq != first.Seq || !again.Time.Equal(first.Time) || again.Delivered != 0 {
		t.Fatalf("retry: %+v, want the first's seq %d as duplicate", again, first.Seq)
	}
	if n := len(b.messages()); n != 1 {
		t.Fatalf("b got %d frames, want the message once", n)
	}
	now = now.Add(2 * time.Minute)
	if late := send("m1"); late.Duplicate {
		t.Fatal("an id outside the window still counted as a duplicate")
	}
}

func TestTypingIsDroppableAndMayBeSkippedByFormat(t *testing.T) {
	h := newHub(t, nil)
	a, b, c := newSink("a"), newSink("b"), &sink{user: "c", format: 1}
	h.Join(t.Context(), "r", a)
	h.Join(t.Context(), "r", b)
	h.Join(t.Context(), "r", c)
	p, err := h.Publish(t.Context(), &hub.Event{Kind: hub.KindTyping, Room: "r", From: "a"}, a)
	if err != nil || p.Delivered != 1 {
		t.Fatalf("typing: %+v %v, want offered to b only", p, err)
	}
	if !b.drops[len(b.drops)-1] {
		t.Fatal("typing frame not marked droppable")
	}
}

func TestPublishRequiresMembership(t *testing.T) {
	h := newHub(t, nil)
	a, b := newSink("a"), newSink("b")
	h.Join(t.Context(), "r", a)
	if _, err := h.Publish(t.Context(), &hub.Event{Kind: hub.KindMessage, Room: "r"}, b); !errors.Is(err, hub.ErrNotMember) {
		t.Fatalf("non-member publish: %v", err)
	}
	if _, err := h.Publish(t.Context(), &hub.Event{Kind: hub.KindMessage, Room: "nowhere"}, a); !errors.Is(err, hub.ErrNotMember) {
		t.Fatalf("publish to a missing room: %v", err)
	}
}

func TestEmptyRoomsAreFreed(t *testing.T) {
	h := newHub(t, nil)
	a, b := newSink("a"), newSink("b")
	h.Join(t.Context(), "r", a)
	h.Join(t.Context(), "r", a) // twice is once
	h.Join(t.Context(), "r", b)
	h.Join(t.Context(), "s", b)
	if got := h.Rooms(); !slices.Equal(got, []hub.RoomInfo{{Name: "r", Users: 2, Conns: 2}, {Name: "s", Users: 1, Conns: 1}}) {
		t.Fatalf("rooms %+v", got)
	}
	h.Leave("r", a)
	h.Leave("r", a)
	h.Leave("nowhere", a)
	h.Leave("r", b)
	h.Leave("s", b)
	if h.RoomCount() != 0 {
		t.Fatalf("rooms %d after the last member left", h.RoomCount())
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHub(t, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s := newSink(fmt.Sprint(i % 4))
			room := fmt.Sprintf("r%d", i%3)
			for range 200 {
				h.Join(t.Context(), room, s)
				_, _ = h.Publish(t.Context(), &hub.Event{Kind: hub.KindMessage, Room: room, Text: []byte("x")}, s)
				h.Leave(room, s)
			}
		})
	}
	wg.Wait()
	if h.RoomCount() != 0 {
		t.Fatalf("%d rooms left", h.RoomCount())
	}
}

// discard is the cheapest possible subscriber, so that the benchmark
// measures the hub's own fan-out cost.
type discard struct{ user string }

func (d *discard) Deliver([]byte, bool) {}
func (d *discard) Format() hub.Format   { return 0 }
func (d *discard) User() string         { return d.user }
func (d *discard) Name() string         { return d.user }

// BenchmarkPublish1000Members publishes one message to a room of 1,000.
func BenchmarkPublish1000Members(b *testing.B) {
	h := start(b, hub.Config{Encode: func(_ hub.Format, e *hub.Event) []byte { return e.Text }})
	for i := range 1000 {
		h.Join(b.Context(), "big", &discard{user: fmt.Sprint(i)})
	}
	e := &hub.Event{Kind: hub.KindMessage, Room: "big", Text: []byte("hello, everyone")}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h.Publish(b.Context(), e, nil)
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkJoin10000OneRoom joins 10,000 users to one room, each reading
// the first 100 names as a join ack lists them: what the hub spends on
// presence and the member list when a large room fills.
func BenchmarkJoin10000OneRoom(b *testing.B) {
	subs := make([]*discard, 10000)
	for i := range subs {
		subs[i] = &discard{user: fmt.Sprintf("user%05d", i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		h := hub.New(hub.Config{Encode: func(_ hub.Format, e *hub.Event) []byte { return []byte("x") }})
		for _, s := range subs {
			h.Join(b.Context(), "big", s)
			h.MembersAfter("big", "", 100, nil)
		}
		h.Close()
	}
}

func TestDedupForgetsTheOldestIDsBeyondItsBound(t *testing.T) {
	h := start(t, hub.Config{Encode: encoder(new(atomic.Int64)), DedupEntries: 2})
	a := newSink("a")
	h.Join(t.Context(), "r", a)
	send := func(id string) bool {
		p, err := h.Publish(t.Context(), &hub.Event{Kind: hub.KindMessage, Room: "r", ClientMsgID: id}, a)
		if err != nil {
			t.Fatal(err)
		}
		return p.Duplicate
	}
	for _, id := range []string{"x", "y", "z"} {
		if send(id) {
			t.Fatalf("%s counted as a duplicate on first send", id)
		}
	}
	if !send("z") || !send("y") {
		t.Fatal("recent ids forgotten")
	}
	if send("x") {
		t.Fatal("the oldest id was kept beyond the bound")
	}
}
