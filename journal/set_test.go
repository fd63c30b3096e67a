package journal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/journal"
	"github.com/chatd/chatd/store"
)

// stuckStore holds every Append whose batch has a message of room until
// unblock is called, as a slow fsync or a lock wait would.
type stuckStore struct {
	store.Store
	room        string
	entered     chan struct{} // closed once an Append of room is held
	release     chan struct{}
	enterOnce   sync.Once
	releaseOnce sync.Once
}

func newStuckStore(st store.Store, room string) *stuckStore {
	return &stuckStore{Store: st, room: room, entered: make(chan struct{}), release: make(chan struct{})}
}

// unblock lets the held Appends, and every later one, go through.
func (s *stuckStore) unblock() { s.releaseOnce.Do(func() { close(s.release) }) }

func (s *stuckStore) Append(ctx context.Context, msgs []store.Message) error {
	if slices.ContainsFunc(msgs, func(m store.Message) bool { return m.Room == s.room }) {
		s.enterOnce.Do(func() { close(s.entered) })
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Store.Append(ctx, msgs)
}

// roomOnShard returns a room name, other than those tried before, that
// set places on shard.
func roomOnShard(t *testing.T, set *journal.Set, shard int) string {
	t.Helper()
	for i := range 10000 {
		if room := fmt.Sprint("room", i); set.Shard(room) == shard {
			return room
		}
	}
	t.Fatalf("no room name lands on shard %d", shard)
	return ""
}

// closeSet closes set when the test ends, after what the test registers
// later (cleanups run last in, first out).
func closeSet(t *testing.T, set *journal.Set) {
	t.Cleanup(func() {
		if err := set.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

func receive(t *testing.T, what string, c <-chan error) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

func TestSetSlowCommitHoldsUpOnlyItsOwnShard(t *testing.T) {
	st := newStuckStore(openSQLite(t), "slow")
	set := journal.NewSet(4, journal.Config{Store: st})
	closeSet(t, set)
	t.Cleanup(st.unblock)
	other := roomOnShard(t, set, (set.Shard("slow")+1)%4)

	slow := make(chan error, 1)
	if err := set.For("slow").Submit(store.Message{Room: "slow", Seq: 1, From: "u", Text: "s", Time: time.Now()}, nil, func(err error) { slow <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-st.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow room's append never started")
	}
	if n := set.Backlog(other); n != 0 {
		t.Fatalf("backlog of %s is %d while only the slow shard is busy", other, n)
	}

	fast := make(chan error, 1)
	if err := set.For(other).Submit(store.Message{Room: other, Seq: 1, From: "u", Text: "f", Time: time.Now()}, nil, func(err error) { fast <- err }); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, other+" stored while slow is stuck", fast); err != nil {
		t.Fatalf("%s: %v", other, err)
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow room's message completed (%v) before its append was released", err)
	default:
	}

	st.unblock()
	if err := receive(t, "slow stored after release", slow); err != nil {
		t.Fatalf("slow: %v", err)
	}
}

func TestSetCloseClosesEveryShard(t *testing.T) {
	st := openSQLite(t)
	const shards, perRoom = 4, 20
	var commits atomic.Int64
	set := journal.NewSet(shards, journal.Config{Store: st, OnCommit: func(int, time.Duration, error) { commits.Add(1) }})
	closeSet(t, set) // on failure; closing twice is harmless
	rooms := make([]string, shards)
	for i := range rooms {
		rooms[i] = roomOnShard(t, set, i)
	}

	var done atomic.Int64
	for seq := 1; seq <= perRoom; seq++ {
		for _, room := range rooms {
			m := store.Message{Room: room, Seq: uint64(seq), From: "u", Text: fmt.Sprint(seq), Time: time.Now()}
			if err := set.For(room).Submit(m, nil, func(err error) {
				if err != nil {
					t.Errorf("%s: %v", room, err)
				}
				done.Add(1)
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := set.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Close returned only after every shard stored its queue and ran its
	// callbacks.
	if n := done.Load(); n != shards*perRoom {
		t.Fatalf("%d callbacks ran before Close returned, want %d", n, shards*perRoom)
	}
	for _, room := range rooms {
		if last, err := st.LastSeq(context.Background(), room); err != nil || last != perRoom {
			t.Fatalf("%s: LastSeq %d (%v), want %d", room, last, err, perRoom)
		}
	}
	if commits.Load() < shards {
		t.Fatalf("%d commits for %d shards", commits.Load(), shards)
	}
	// And every shard refuses what comes after.
	for _, room := range rooms {
		called := false
		err := set.For(room).Submit(store.Message{Room: room, Seq: perRoom + 1, From: "u", Time: time.Now()}, nil, func(error) { called = true })
		if !errors.Is(err, journal.ErrClosed) || called {
			t.Fatalf("%s: submit after close: %v (callback called: %v)", room, err, called)
		}
		if n := set.Backlog(room); n != 0 {
			t.Fatalf("%s: backlog %d after close", room, n)
		}
	}
}

func TestSetCloseRefusesOnEveryShardWhileOneIsStuck(t *testing.T) {
	st := newStuckStore(openSQLite(t), "slow")
	set := journal.NewSet(2, journal.Config{Store: st})
	closeSet(t, set)
	t.Cleanup(st.unblock)
	other := roomOnShard(t, set, 1-set.Shard("slow"))

	slow := make(chan error, 1)
	if err := set.For("slow").Submit(store.Message{Room: "slow", Seq: 1, From: "u", Time: time.Now()}, nil, func(err error) { slow <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-st.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow room's append never started")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := set.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("close with a stuck shard and an ended context: %v, want context.Canceled", err)
	}
	for _, room := range []string{"slow", other} {
		if err := set.For(room).Submit(store.Message{Room: room, Seq: 2, From: "u", Time: time.Now()}, nil, func(error) {
			t.Errorf("%s: callback of a refused message", room)
		}); !errors.Is(err, journal.ErrClosed) {
			t.Fatalf("%s: submit after close: %v, want ErrClosed", room, err)
		}
	}

	// The stuck shard still stores what it had accepted.
	st.unblock()
	if err := receive(t, "slow stored after release", slow); err != nil {
		t.Fatalf("slow: %v", err)
	}
	if err := set.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSetShardIsStableAndUsesEveryJournal(t *testing.T) {
	one := journal.NewSet(0, journal.Config{Store: openSQLite(t)})
	closeSet(t, one)
	if got := one.Shard("anything"); got != 0 {
		t.Fatalf("a set of one journal put a room on shard %d", got)
	}

	const n = 8
	set := journal.NewSet(n, journal.Config{Store: openSQLite(t)})
	closeSet(t, set)
	seen := make([]int, n)
	for i := range 1000 {
		room := fmt.Sprint("r", i)
		s := set.Shard(room)
		if s < 0 || s >= n || set.Shard(room) != s {
			t.Fatalf("%s: shard %d, then %d", room, s, set.Shard(room))
		}
		if first, again := set.For(room), set.For(room); first != again {
			t.Fatalf("%s: two journals", room)
		}
		seen[s]++
	}
	for s, c := range seen {
		if c < 1000/n/2 {
			t.Fatalf("shard %d got %d of 1000 rooms: %v", s, c, seen)
		}
	}
}
