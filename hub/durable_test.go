package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Subscriber that records the messages it is offered.
type recorder struct {
	user string
	mu   sync.Mutex
	got  []string
}

func (r *recorder) Deliver(frame []byte, _ bool) {
	r.mu.Lock()
	r.got = append(r.got, string(frame))
	r.mu.Unlock()
}
func (r *recorder) Format() Format { return 0 }
func (r *recorder) User() string   { return r.user }
func (r *recorder) Name() string   { return r.user }

// seqs returns the sequence numbers of the messages offered so far.
func (r *recorder) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]uint64, 0, len(r.got))
	for _, f := range r.got {
		var seq uint64
		fmt.Sscan(f, &seq)
		out = append(out, seq)
	}
	return out
}

// encodeMessages renders a message as "seq text" and nothing else, so a
// recorder sees messages only.
func encodeMessages(_ Format, e *Event) []byte {
	if e.Kind != KindMessage {
		return nil
	}
	return fmt.Appendf(nil, "%d %s", e.Seq, e.Text)
}

// newDurable returns a hub that stores through one journal into st,
// encoding with encodeMessages unless cfg says otherwise.
func newDurable(t *testing.T, st *fakeStore, cfg Config) *Hub {
	t.Helper()
	js := journal.NewSet(1, journal.Config{Store: st})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := js.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	cfg.Store, cfg.Journals = st, js
	if cfg.Encode == nil {
		cfg.Encode = encodeMessages
	}
	h := New(cfg)
	t.Cleanup(h.Close)
	return h
}

type outcome struct {
	p   Published
	err error
}

// send publishes a message from from and returns what Publish said and a
// channel that receives the outcome once the journal is done with it.
func send(t *testing.T, h *Hub, from Subscriber, room, text, id string) (Published, <-chan outcome) {
	t.Helper()
	done := make(chan outcome, 1)
	name := ""
	if from != nil {
		name = from.Name()
	}
	e := &Event{Kind: KindMessage, Room: room, From: name, Text: []byte(text), ClientMsgID: id,
		Done: func(p Published, err error) { done <- outcome{p, err} }}
	var p Published
	var err error
	if from == nil {
		p, err = h.Post(t.Context(), e)
	} else {
		p, err = h.Publish(t.Context(), e, from)
	}
	if err != nil {
		t.Fatalf("publish %q: %v", text, err)
	}
	return p, done
}

func wait[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

// stored sends a message and waits until it is stored and fanned out.
func sendStored(t *testing.T, h *Hub, from Subscriber, room, text string) Published {
	t.Helper()
	_, done := send(t, h, from, room, text, "")
	o := wait(t, done)
	if o.err != nil {
		t.Fatalf("store %q: %v", text, o.err)
	}
	return o.p
}

func join(t *testing.T, h *Hub, room string, s Subscriber, want Replay) JoinResult {
	t.Helper()
	res, err := h.JoinReplay(t.Context(), room, s, want)
	if err != nil {
		t.Fatalf("join %s: %v", room, err)
	}
	return res
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestDurableMessageReachesMembersOnlyOnceStored(t *testing.T) {
	st := newFakeStore()
	h := newDurable(t, st, Config{})
	waiting, release := st.holdCommits()
	t.Cleanup(release)
	a, b := &recorder{user: "a"}, &recorder{user: "b"}
	join(t, h, "r", a, Replay{})
	join(t, h, "r", b, Replay{})

	p, done := send(t, h, a, "r", "hello", "")
	if !p.Pending || p.Seq != 0 {
		t.Fatalf("Publish = %+v, want pending without a number", p)
	}
	wait(t, waiting)
	if got := b.seqs(); len(got) != 0 || h.Last("r") != 0 {
		t.Fatalf("while the commit is held: b got %v, Last %d; want nothing", got, h.Last("r"))
	}
	release()
	o := wait(t, done)
	if o.err != nil || o.p.Seq != 1 || o.p.Delivered != 1 {
		t.Fatalf("outcome %+v, %v; want seq 1 delivered to 1", o.p, o.err)
	}
	if got := b.seqs(); !slices.Equal(got, []uint64{1}) || h.Last("r") != 1 {
		t.Fatalf("b got %v, Last %d; want [1], 1", got, h.Last("r"))
	}
}

func TestFailedCommitLeavesNoHoleInTheSequence(t *testing.T) {
	for _, tc := range []struct {
		name string
		// lost: the store kept the batch although it reported an error.
		lost bool
		want []uint64 // what a recovery from 0 reads afterwards
	}{
		{name: "refused", want: []uint64{1}},
		{name: "stored but reported as failed", lost: true, want: []uint64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newFakeStore()
			h := newDurable(t, st, Config{})
			a, b := &recorder{user: "a"}, &recorder{user: "b"}
			join(t, h, "r", a, Replay{})
			join(t, h, "r", b, Replay{})
			failure := errors.New("connection lost during COMMIT")
			st.mu.Lock()
			if tc.lost {
				st.lost = failure
			} else {
				st.fail = failure
			}
			st.mu.Unlock()

			_, done := send(t, h, a, "r", "first", "")
			if o := wait(t, done); !errors.Is(o.err, failure) {
				t.Fatalf("first: %+v, %v; want the store's error", o.p, o.err)
			}
			next := sendStored(t, h, a, "r", "second")
			if want := tc.want[len(tc.want)-1]; next.Seq != want {
				t.Fatalf("the next message got seq %d, want %d", next.Seq, want)
			}
			if got := b.seqs(); !slices.Equal(got, []uint64{next.Seq}) {
				t.Fatalf("b got %v live, want only [%d]", got, next.Seq)
			}
			c := &recorder{user: "c"}
			join(t, h, "r", c, Replay{Recover: true})
			if got := c.seqs(); !slices.Equal(got, tc.want) {
				t.Fatalf("recovery read %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRepeatOfAPendingMessageIsAnsweredWithTheOriginal(t *testing.T) {
	for _, refused := range []bool{false, true} {
		t.Run(fmt.Sprintf("refused=%v", refused), func(t *testing.T) {
			st := newFakeStore()
			h := newDurable(t, st, Config{})
			waiting, release := st.holdCommits()
			t.Cleanup(release)
			a, b := &recorder{user: "a"}, &recorder{user: "b"}
			join(t, h, "r", a, Replay{})
			join(t, h, "r", b, Replay{})
			failure := errors.New("disk full")
			if refused {
				st.mu.Lock()
				st.fail = failure
				st.mu.Unlock()
			}

			_, first := send(t, h, a, "r", "once", "m1")
			wait(t, waiting)
			p, again := send(t, h, a, "r", "once", "m1")
			if !p.Pending {
				t.Fatalf("repeat while pending: %+v, want pending", p)
			}
			release()
			o1, o2 := wait(t, first), wait(t, again)
			if refused {
				if !errors.Is(o1.err, failure) || !errors.Is(o2.err, failure) {
					t.Fatalf("outcomes %v, %v; want both refused", o1.err, o2.err)
				}
				// Forgotten with its batch: a resend is a new message.
				_, resent := send(t, h, a, "r", "once", "m1")
				if o := wait(t, resent); o.err != nil || o.p.Duplicate || o.p.Seq != 1 {
					t.Fatalf("resend: %+v, %v; want a new message with seq 1", o.p, o.err)
				}
			} else if o1.err != nil || o2.err != nil || o1.p.Seq != 1 || !o2.p.Duplicate || o2.p.Seq != 1 {
				t.Fatalf("outcomes %+v %v, %+v %v; want seq 1, then its duplicate", o1.p, o1.err, o2.p, o2.err)
			}
			if got := b.seqs(); !slices.Equal(got, []uint64{1}) {
				t.Fatalf("b got %v, want the message once", got)
			}
		})
	}
}

func TestRoomContinuesFromTheStoreAndFindsRepeatsThere(t *testing.T) {
	st := newFakeStore()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.Append(context.Background(), []store.Message{
		{Room: "r", Seq: 5, From: "a", Text: "from before a restart", ClientMsgID: "m1", Time: old},
	}); err != nil {
		t.Fatal(err)
	}
	h := newDurable(t, st, Config{})
	a, b := &recorder{user: "a"}, &recorder{user: "b"}
	join(t, h, "r", a, Replay{})
	if res := join(t, h, "r", b, Replay{}); res.Last != 5 {
		t.Fatalf("a new room's Last is %d, want the store's 5", res.Last)
	}
	p, _ := send(t, h, a, "r", "again", "m1")
	if !p.Duplicate || p.Seq != 5 || !p.Time.Equal(old) {
		t.Fatalf("repeat of a stored id: %+v, want seq 5 as duplicate", p)
	}
	if next := sendStored(t, h, a, "r", "new"); next.Seq != 6 {
		t.Fatalf("next message got seq %d, want 6", next.Seq)
	}
	if got := b.seqs(); !slices.Equal(got, []uint64{6}) {
		t.Fatalf("b got %v, want [6]", got)
	}
}

func TestRecoveryHasNoGapOrDuplicateWhenMessagesGoOutDuringTheHistoryRead(t *testing.T) {
	// One message during the read makes the join read again; one during
	// each of four reads makes it read the rest with the room held still.
	for _, during := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d reads interrupted", during), func(t *testing.T) {
			st := newFakeStore()
			h := newDurable(t, st, Config{})
			a := &recorder{user: "a"}
			join(t, h, "r", a, Replay{})
			for i := range 3 {
				sendStored(t, h, a, "r", fmt.Sprint("before ", i))
			}
			st.mu.Lock()
			var sends sync.WaitGroup
			defer sends.Wait()
			st.onAfter = func(call int) {
				if call > during {
					return
				}
				// Publish from another goroutine: a read made with the
				// room held must fail the test, not hang it.
				done := make(chan outcome, 1)
				sends.Add(1)
				go func() {
					defer sends.Done()
					e := &Event{Kind: KindMessage, Room: "r", From: "a", Text: []byte("during a read"),
						Done: func(p Published, err error) { done <- outcome{p, err} }}
					if _, err := h.Publish(t.Context(), e, a); err != nil {
						done <- outcome{err: err}
					}
				}()
				select {
				case o := <-done:
					if o.err != nil {
						t.Error(o.err)
					}
				case <-time.After(2 * time.Second):
					t.Errorf("read %d: a message sent during it was not stored in 2s", call)
				}
			}
			st.mu.Unlock()

			c := &recorder{user: "c"}
			res := join(t, h, "r", c, Replay{Recover: true})
			last := uint64(3 + during)
			if res.Last != last || res.Replayed != int(last) || res.More || res.Missing {
				t.Fatalf("join = %+v, want all %d messages replayed", res, last)
			}
			sendStored(t, h, a, "r", "after")
			if got, want := c.seqs(), seqRange(1, last+1); !slices.Equal(got, want) {
				t.Fatalf("c got %v, want %v", got, want)
			}
		})
	}
}

func TestReplayStaysWithinItsLimits(t *testing.T) {
	pad := strings.Repeat("x", 7) // each frame is "N xxxxxxx" or "NN xxxxxxx": 9 or 10 bytes
	for _, tc := range []struct {
		name       string
		cfg        Config
		want       Replay
		trim       int // keep only the newest trim messages
		seqs       []uint64
		more, gone bool
	}{
		{name: "recovery pages at ReplayLimit", cfg: Config{ReplayLimit: 3},
			want: Replay{Recover: true}, seqs: []uint64{1, 2, 3}, more: true},
		{name: "recovery from the last message", cfg: Config{ReplayLimit: 3},
			want: Replay{Recover: true, After: 10}},
		{name: "newest within ReplayLimit", cfg: Config{ReplayLimit: 3},
			want: Replay{Last: 5}, seqs: []uint64{8, 9, 10}},
		{name: "newest within Last", want: Replay{Last: 2}, seqs: []uint64{9, 10}},
		{name: "recovery keeps the oldest within ReplayBytes", cfg: Config{ReplayBytes: 20},
			want: Replay{Recover: true, After: 4}, seqs: []uint64{5, 6}, more: true},
		{name: "newest keeps the newest within ReplayBytes", cfg: Config{ReplayBytes: 20},
			want: Replay{Last: 5}, seqs: []uint64{9, 10}, more: true},
		{name: "the first message goes whatever its size", cfg: Config{ReplayBytes: 1},
			want: Replay{Recover: true, After: 9}, seqs: []uint64{10}},
		{name: "recovery says retention removed its start", trim: 5,
			want: Replay{Recover: true, After: 2}, seqs: seqRange(6, 10), gone: true},
		{name: "recovery after the retained start", trim: 5,
			want: Replay{Recover: true, After: 7}, seqs: []uint64{8, 9, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newFakeStore()
			h := newDurable(t, st, tc.cfg)
			a := &recorder{user: "a"}
			join(t, h, "r", a, Replay{})
			for range 10 {
				sendStored(t, h, a, "r", pad)
			}
			if tc.trim > 0 {
				if _, err := st.Trim(context.Background(), time.Now(), 0, tc.trim); err != nil {
					t.Fatal(err)
				}
			}
			c := &recorder{user: "c"}
			res := join(t, h, "r", c, tc.want)
			if got := c.seqs(); !slices.Equal(got, tc.seqs) {
				t.Fatalf("replayed %v, want %v", got, tc.seqs)
			}
			if res.Replayed != len(tc.seqs) || res.More != tc.more || res.Missing != tc.gone || res.Last != 10 {
				t.Fatalf("join = %+v, want %d replayed, More %v, Missing %v, Last 10",
					res, len(tc.seqs), tc.more, tc.gone)
			}
		})
	}
}

func TestPostStoresInAnEmptyRoomThatIsThenFreed(t *testing.T) {
	st := newFakeStore()
	h := newDurable(t, st, Config{})
	p, done := send(t, h, nil, "r", "from the API", "")
	if !p.Pending {
		t.Fatalf("Post = %+v, want pending", p)
	}
	if o := wait(t, done); o.err != nil || o.p.Seq != 1 {
		t.Fatalf("outcome %+v, %v; want seq 1", o.p, o.err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.RoomCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the room outlived its only message")
		}
		time.Sleep(time.Millisecond)
	}
	c := &recorder{user: "c"}
	if res := join(t, h, "r", c, Replay{Last: 10}); res.Last != 1 || !slices.Equal(c.seqs(), []uint64{1}) {
		t.Fatalf("join = %+v, replayed %v; want the posted message", res, c.seqs())
	}
}

func TestABackedUpJournalRefusesMessagesUntilItCatchesUp(t *testing.T) {
	st := newFakeStore()
	h := newDurable(t, st, Config{MaxBacklog: 1})
	waiting, release := st.holdCommits()
	t.Cleanup(release)
	a := &recorder{user: "a"}
	join(t, h, "r", a, Replay{})
	_, first := send(t, h, a, "r", "held", "")
	wait(t, waiting)
	_, second := send(t, h, a, "r", "queued", "")

	e := &Event{Kind: KindMessage, Room: "r", From: "a", Text: []byte("over")}
	if _, err := h.Publish(t.Context(), e, a); !errors.Is(err, ErrBacklogged) {
		t.Fatalf("Publish beyond MaxBacklog: %v, want ErrBacklogged", err)
	}
	if _, err := h.Post(t.Context(), e); !errors.Is(err, ErrBacklogged) {
		t.Fatalf("Post beyond MaxBacklog: %v, want ErrBacklogged", err)
	}
	if _, err := h.Publish(t.Context(), &Event{Kind: KindTyping, Room: "r", From: "a"}, a); err != nil {
		t.Fatalf("typing while backed up: %v", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.WaitBacklog(short, "r"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitBacklog while the commit is held: %v", err)
	}

	waited := make(chan error, 1)
	go func() { waited <- h.WaitBacklog(context.Background(), "r") }()
	release()
	if err := wait(t, waited); err != nil {
		t.Fatal(err)
	}
	for _, done := range []<-chan outcome{first, second} {
		if o := wait(t, done); o.err != nil {
			t.Fatal(o.err)
		}
	}
	if p := sendStored(t, h, a, "r", "over"); p.Seq != 3 {
		t.Fatalf("after the wait the message got seq %d, want 3", p.Seq)
	}
}
