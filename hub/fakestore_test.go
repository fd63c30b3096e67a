package hub

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/chatd/chatd/store"
)

// fakeStore keeps messages in memory and lets a test reach into the
// durable half of the hub at exact points: hold a commit until released,
// fail the next one (before or after storing it), or run code in the
// middle of a history read. It is a fake of the store contract, not of
// chatd code, so that the hub's own code runs unchanged.
type fakeStore struct {
	mu      sync.Mutex
	msgs    map[string][]store.Message
	last    map[string]uint64
	hold    chan struct{}  // when set, Append waits for it to be closed
	holding chan struct{}  // closed by Append once it waits on hold
	fail    error          // the next Append returns it, storing nothing
	lost    error          // the next Append stores its batch and returns it
	onAfter func(call int) // called by After, outside the lock
	afters  int
}

var _ store.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{msgs: make(map[string][]store.Message), last: make(map[string]uint64)}
}

// holdCommits makes every Append wait until the returned release is
// called; the returned channel is closed once an Append is waiting.
func (s *fakeStore) holdCommits() (waiting <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.holding = make(chan struct{}), make(chan struct{})
	hold := s.hold
	var once sync.Once
	return s.holding, func() { once.Do(func() { close(hold) }) }
}

func (s *fakeStore) Append(ctx context.Context, msgs []store.Message) error {
	s.mu.Lock()
	hold, holding := s.hold, s.holding
	s.hold, s.holding = nil, nil
	s.mu.Unlock()
	if hold != nil {
		close(holding)
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail; err != nil {
		s.fail = nil
		return err
	}
	last := make(map[string]uint64)
	for _, m := range msgs {
		prev, ok := last[m.Room]
		if !ok {
			prev = s.last[m.Room]
		}
		if m.Seq <= prev {
			return store.ErrSeqConflict
		}
		last[m.Room] = m.Seq
	}
	for _, m := range msgs {
		s.msgs[m.Room] = append(s.msgs[m.Room], m)
		s.last[m.Room] = m.Seq
	}
	s.tallyLocked(msgs)
	if err := s.lost; err != nil {
		s.lost = nil
		return err
	}
	return nil
}

func (s *fakeStore) LastSeq(_ context.Context, room string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[room], nil
}

func (s *fakeStore) After(_ context.Context, room string, after uint64, limit int) ([]store.Message, error) {
	s.mu.Lock()
	s.afters++
	call, hook := s.afters, s.onAfter
	s.mu.Unlock()
	if hook != nil {
		hook(call)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Message
	for _, m := range s.msgs[room] {
		if m.Seq > after && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *fakeStore) Before(_ context.Context, room string, before uint64, limit int) ([]store.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Message
	msgs := s.msgs[room]
	for i := len(msgs) - 1; i >= 0 && len(out) < limit; i-- {
		if before == 0 || msgs[i].Seq < before {
			out = append(out, msgs[i])
		}
	}
	slices.Reverse(out)
	return out, nil
}

func (s *fakeStore) Oldest(_ context.Context, room string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msgs := s.msgs[room]; len(msgs) > 0 {
		return msgs[0].Seq, nil
	}
	return 0, nil
}

func (s *fakeStore) FindClientMsg(_ context.Context, room, from, id string) (store.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := s.msgs[room]
	for i := len(msgs) - 1; i >= 0; i-- {
		if id != "" && msgs[i].From == from && msgs[i].ClientMsgID == id {
			return msgs[i], true, nil
		}
	}
	return store.Message{}, false, nil
}

// Trim keeps only the newest maxPerRoom messages of each room; the hub
// never trims, so age is not modelled.
func (s *fakeStore) Trim(_ context.Context, _ time.Time, _ time.Duration, maxPerRoom int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for room, msgs := range s.msgs {
		if cut := len(msgs) - maxPerRoom; cut > 0 {
			s.msgs[room] = slices.Clone(msgs[cut:])
			n += int64(cut)
		}
	}
	return n, nil
}

var errNotModelled = errors.New("not modelled by the fake store")

func (s *fakeStore) SetRead(context.Context, string, string, uint64) error { return errNotModelled }
func (s *fakeStore) ReadPositions(context.Context, string) (map[string]uint64, error) {
	return nil, errNotModelled
}
func (s *fakeStore) Mentions(context.Context, string, int64, int) ([]store.Mention, error) {
	return nil, errNotModelled
}
func (s *fakeStore) MessageMentions(context.Context, string, uint64) (map[string]uint64, error) {
	return nil, nil
}
func (s *fakeStore) UnreadMentions(context.Context, string, int) (map[string][]uint64, error) {
	return nil, errNotModelled
}
func (s *fakeStore) ThreadAfter(context.Context, string, uint64, uint64, int) ([]store.Message, error) {
	return nil, errNotModelled
}
func (s *fakeStore) ThreadBefore(context.Context, string, uint64, uint64, int) ([]store.Message, error) {
	return nil, errNotModelled
}
func (s *fakeStore) ReactionsBy(context.Context, string, uint64, string) ([]string, error) {
	return nil, errNotModelled
}
func (s *fakeStore) Ping(context.Context) error { return nil }
func (s *fakeStore) Close() error               { return nil }

// tallyLocked marks the last reaction of each run in the batch (reactions
// to one target that follow each other in a room) with the target's
// reactions after it, as the real stores do: a count per emoji.
func (s *fakeStore) tallyLocked(msgs []store.Message) {
	for i, m := range msgs {
		if !isReactionChange(m) {
			continue
		}
		if i+1 < len(msgs) && isReactionChange(msgs[i+1]) && msgs[i+1].Room == m.Room && msgs[i+1].Target == m.Target {
			continue
		}
		var state []store.Reaction
		for _, x := range s.msgs[m.Room] {
			if !isReactionChange(x) || x.Target != m.Target || x.Seq > m.Seq {
				continue
			}
			k := slices.IndexFunc(state, func(r store.Reaction) bool { return r.Emoji == string(x.Text) })
			if k < 0 {
				state = append(state, store.Reaction{Emoji: string(x.Text)})
				k = len(state) - 1
			}
			if x.Change == store.ChangeReact {
				state[k].Count++
			} else {
				state[k].Count--
			}
		}
		msgs[i].Tally, msgs[i].Reactions = true, state
	}
}

func isReactionChange(m store.Message) bool {
	return m.Change == store.ChangeReact || m.Change == store.ChangeUnreact
}
