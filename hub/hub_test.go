package hub_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/hub"
)

// sink is a Subscriber that records what it is offered.
type sink struct {
	format hub.Format
	mu     sync.Mutex
	got    []string
}

func (s *sink) Deliver(frame []byte) {
	s.mu.Lock()
	s.got = append(s.got, string(frame))
	s.mu.Unlock()
}

func (s *sink) Format() hub.Format { return s.format }

func (s *sink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// countingEncoder encodes as "<format>:<text>" and counts its calls.
func countingEncoder(calls *atomic.Int64) hub.Encoder {
	return func(f hub.Format, m *hub.Message) []byte {
		calls.Add(1)
		return fmt.Appendf(nil, "%d:%s", f, m.Text)
	}
}

func TestPublishReachesEveryMemberButTheSender(t *testing.T) {
	var calls atomic.Int64
	h := hub.New(countingEncoder(&calls))
	a, b, c := &sink{}, &sink{}, &sink{}
	other := &sink{}
	for _, s := range []*sink{a, b, c} {
		h.Join("r", s)
	}
	h.Join("elsewhere", other)

	if n := h.Publish(&hub.Message{Room: "r", Text: []byte("hi")}, a); n != 2 {
		t.Fatalf("offered to %d members, want 2", n)
	}
	if got := a.messages(); len(got) != 0 {
		t.Fatalf("sender got %q", got)
	}
	for _, s := range []*sink{b, c} {
		if got := s.messages(); len(got) != 1 || got[0] != "0:hi" {
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

func TestEncodesOncePerFormat(t *testing.T) {
	var calls atomic.Int64
	h := hub.New(countingEncoder(&calls))
	subs := []*sink{{format: 0}, {format: 1}, {format: 0}, {format: 1}, {format: 1}}
	for _, s := range subs {
		h.Join("r", s)
	}
	h.Publish(&hub.Message{Room: "r", Text: []byte("x")}, nil)
	if calls.Load() != 2 {
		t.Fatalf("encoded %d times, want 2 (one per format)", calls.Load())
	}
	for _, s := range subs {
		if got, want := s.messages()[0], fmt.Sprintf("%d:x", s.format); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestEmptyRoomsAreFreed(t *testing.T) {
	h := hub.New(countingEncoder(new(atomic.Int64)))
	a, b := &sink{}, &sink{}
	h.Join("r", a)
	h.Join("r", a) // twice is once
	h.Join("r", b)
	if h.Members("r") != 2 || h.Rooms() != 1 {
		t.Fatalf("members %d rooms %d", h.Members("r"), h.Rooms())
	}
	h.Leave("r", a)
	h.Leave("r", a)
	h.Leave("nowhere", a)
	if h.Members("r") != 1 {
		t.Fatalf("members %d after leave", h.Members("r"))
	}
	h.Leave("r", b)
	if h.Rooms() != 0 {
		t.Fatalf("rooms %d after the last member left", h.Rooms())
	}
	if n := h.Publish(&hub.Message{Room: "r"}, nil); n != 0 {
		t.Fatalf("published to %d members of a freed room", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := hub.New(countingEncoder(new(atomic.Int64)))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s := &sink{}
			room := fmt.Sprintf("r%d", i%3)
			for range 200 {
				h.Join(room, s)
				h.Publish(&hub.Message{Room: room, Text: []byte("x")}, s)
				h.Leave(room, s)
			}
		})
	}
	wg.Wait()
	if h.Rooms() != 0 {
		t.Fatalf("%d rooms left", h.Rooms())
	}
}

// discard is the cheapest possible subscriber, so that the benchmark
// measures the hub's own fan-out cost.
type discard struct{ n int }

func (d *discard) Deliver([]byte)     { d.n++ }
func (d *discard) Format() hub.Format { return 0 }

// BenchmarkPublish1000Members publishes one message to a room of 1,000.
func BenchmarkPublish1000Members(b *testing.B) {
	h := hub.New(func(_ hub.Format, m *hub.Message) []byte { return m.Text })
	for range 1000 {
		h.Join("big", &discard{})
	}
	m := &hub.Message{Room: "big", Text: []byte("hello, everyone")}
	b.ReportAllocs()
	for b.Loop() {
		h.Publish(m, nil)
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "deliveries/s")
}
