package hub

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// encodePresence renders a presence diff as "+joins -leaves users" and
// nothing else, so a recorder sees diffs only.
func encodePresence(_ Format, e *Event) []byte {
	if e.Kind != KindPresence {
		return nil
	}
	return fmt.Appendf(nil, "+%s -%s %d", strings.Join(e.Presence.Joins, ","), strings.Join(e.Presence.Leaves, ","), e.Presence.Users)
}

// newPresenceHub returns a hub whose clock never ticks by itself within a
// test: the test ticks it, so each interval is a step of the test.
func newPresenceHub(t *testing.T, names int) *Hub {
	t.Helper()
	h := New(Config{Encode: encodePresence, PresenceInterval: time.Hour, PresenceNames: names})
	t.Cleanup(h.Close)
	return h
}

func (r *recorder) frames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func expectFrames(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	if got := r.frames(); !slices.Equal(got, want) {
		t.Fatalf("%s got %q, want %q", r.user, got, want)
	}
}

func (h *Hub) queued() int {
	h.clock.mu.Lock()
	defer h.clock.mu.Unlock()
	return len(h.clock.rooms)
}

func TestPresenceGoesOutAtOnceAfterAQuietIntervalAndThenOncePerInterval(t *testing.T) {
	h := newPresenceHub(t, 0)
	w := &recorder{user: "w"}
	h.Join(t.Context(), "r", w)
	a := &recorder{user: "a"}
	h.Join(t.Context(), "r", a)
	// w's join went out at once, to nobody; a's waits for the clock.
	expectFrames(t, w)
	h.clock.tick(h) // the interval in which w's join went out
	expectFrames(t, w)
	for _, u := range []string{"c", "b"} {
		h.Join(t.Context(), "r", &recorder{user: u})
	}
	h.clock.tick(h)
	expectFrames(t, w, "+a,b,c - 4")
	expectFrames(t, a, "+a,b,c - 4")

	h.Leave("r", a)
	h.Join(t.Context(), "r", &recorder{user: "d"})
	h.clock.tick(h)
	expectFrames(t, w, "+a,b,c - 4", "+d -a 4")

	h.clock.tick(h) // a quiet interval: the room leaves the clock
	if n := h.queued(); n != 0 {
		t.Fatalf("%d rooms on the clock after a quiet interval, want 0", n)
	}
	e := &recorder{user: "e"}
	h.Join(t.Context(), "r", e)
	expectFrames(t, w, "+a,b,c - 4", "+d -a 4", "+e - 5")
	expectFrames(t, e) // the joiner learns the members from its join
}

func TestPresenceOfAUserWhoJoinsAndLeavesWithinOneIntervalIsNotSent(t *testing.T) {
	h := newPresenceHub(t, 0)
	w := &recorder{user: "w"}
	h.Join(t.Context(), "r", w)
	h.Join(t.Context(), "r", &recorder{user: "x"}) // a change that goes out
	h.clock.tick(h)
	h.clock.tick(h)
	expectFrames(t, w, "+x - 2")

	brief := &recorder{user: "brief"}
	h.Join(t.Context(), "r", brief)
	h.Leave("r", brief)
	h.clock.tick(h)
	expectFrames(t, w, "+x - 2")
	if n := h.queued(); n != 0 {
		t.Fatalf("%d rooms on the clock with nothing to send, want 0", n)
	}
}

func TestPresenceDiffListsAtMostPresenceNamesLeavesFirst(t *testing.T) {
	h := newPresenceHub(t, 3)
	w := &recorder{user: "w"}
	h.Join(t.Context(), "r", w)
	users := make(map[string]*recorder)
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		users[u] = &recorder{user: u}
		h.Join(t.Context(), "r", users[u])
	}
	h.clock.tick(h)
	h.clock.tick(h)
	got := w.frames()
	if len(got) != 1 {
		t.Fatalf("w got %q, want one diff", got)
	}
	if !strings.HasSuffix(got[0], " - 6") || strings.Count(got[0], ",") != 2 {
		t.Fatalf("diff %q, want 3 of the 5 joins and 6 users", got[0])
	}

	h.Leave("r", users["u1"])
	h.Leave("r", users["u2"])
	for _, u := range []string{"u6", "u7"} {
		h.Join(t.Context(), "r", &recorder{user: u})
	}
	h.clock.tick(h)
	last := w.frames()[1]
	if !strings.HasSuffix(last, " -u1,u2 6") || strings.Count(last, "u6")+strings.Count(last, "u7") != 1 {
		t.Fatalf("diff %q, want both leaves, one join and 6 users", last)
	}
}

func TestMembersAreReadInPagesInCaseInsensitiveOrder(t *testing.T) {
	h := newPresenceHub(t, 0)
	var want []string
	for i := range 250 {
		name := fmt.Sprintf("user%03d", i)
		if i%2 == 1 {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		want = append(want, name)
	}
	for _, i := range []int{7, 3, 200, 0} { // join out of order
		h.Join(t.Context(), "r", &recorder{user: want[i]})
	}
	for i, name := range want {
		if !slices.Contains([]int{7, 3, 200, 0}, i) {
			h.Join(t.Context(), "r", &recorder{user: name})
		}
	}
	h.Leave("r", &recorder{user: "nobody"})
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		names, users := h.MembersAfter("r", cursor, 100, nil)
		if users != 250 {
			t.Fatalf("%d users, want 250", users)
		}
		if len(names) == 0 {
			if pages != 3 {
				t.Fatalf("%d pages, want 3", pages)
			}
			break
		}
		got = append(got, names...)
		cursor = names[len(names)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %d names %q..., want %d in order", len(got), got[:min(5, len(got))], len(want))
	}
	if names, users := h.MembersAfter("nowhere", "", 100, nil); names != nil || users != 0 {
		t.Fatalf("empty room: %q, %d", names, users)
	}
}

func TestCloseStopsTheClockWhileRoomsAreQueued(t *testing.T) {
	h := New(Config{Encode: encodePresence, PresenceInterval: time.Millisecond})
	for i := range 10 {
		h.Join(t.Context(), fmt.Sprint("r", i%3), &recorder{user: fmt.Sprint(i)})
	}
	h.Close()
	h.Close()
}

// A member who read the list while a change was pending has that change in
// its list, so the user flipping back within the interval must reach it:
// carol's join lists bob, whose own join has not gone out yet, and bob
// leaves before the next diff.
func TestAFlipBackIsSentToAMemberWhoReadTheListInBetween(t *testing.T) {
	h := newPresenceHub(t, 0)
	a := &recorder{user: "a"}
	h.Join(t.Context(), "r", a) // at once, to nobody
	bob := &recorder{user: "bob"}
	h.Join(t.Context(), "r", bob) // pending
	carol := &recorder{user: "carol"}
	h.Join(t.Context(), "r", carol)
	if names, _ := h.MembersAfter("r", "", 100, carol); !slices.Contains(names, "bob") {
		t.Fatalf("carol's list %q lacks bob", names)
	}
	h.Leave("r", bob)
	h.clock.tick(h) // the interval of a's join
	h.clock.tick(h)
	expectFrames(t, carol, "+carol -bob 2")
	expectFrames(t, a, "+carol -bob 2")

	// Without a read by anyone else, a join and a leave still cancel,
	// even though the user read the list itself.
	dave := &recorder{user: "dave"}
	h.Join(t.Context(), "r", dave)
	h.MembersAfter("r", "", 100, dave)
	h.Leave("r", dave)
	h.clock.tick(h)
	h.clock.tick(h)
	expectFrames(t, a, "+carol -bob 2")
}
