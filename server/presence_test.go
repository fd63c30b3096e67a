package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// names returns the strings of a JSON list in an event.
func names(t *testing.T, v any) []string {
	t.Helper()
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%v is not a list", v)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

// The presence tests act within the first moments of an interval of one
// second: the clock ticks an interval after a room's first change, and
// these tests make their changes right after it.

func TestPresenceChangesOfOneIntervalReachTheMembersAsOneDiff(t *testing.T) {
	ts := servertest.Start(t, server.Config{PresenceInterval: time.Second})
	w := dialJSON(t, ts, "name=w")
	others := []*jsonClient{dialJSON(t, ts, "name=carol"), dialJSON(t, ts, "name=Alice"), dialJSON(t, ts, "name=bob")}
	w.do(`{"type":"join","room":"r"}`) // the room's first change: the clock starts
	for _, c := range others {
		c.do(`{"type":"join","room":"r"}`)
	}
	ev := w.expect("presence_diff")
	if got := names(t, ev["joins"]); !slices.Equal(got, []string{"Alice", "bob", "carol"}) || ev["leaves"] != nil || ev["users"] != float64(4) || ev["room"] != "r" {
		t.Fatalf("diff %v, want the three joins and 4 users", ev)
	}
	// Later changes take the next diff.
	others[0].do(`{"type":"leave","room":"r"}`)
	others[1].ws.CloseNow()
	ev = w.expect("presence_diff")
	if got := names(t, ev["leaves"]); !slices.Equal(got, []string{"Alice", "carol"}) || ev["joins"] != nil || ev["users"] != float64(2) {
		t.Fatalf("diff %v, want the two leaves and 2 users", ev)
	}
}

func TestPresenceOfAUserWhoJoinsAndLeavesWithinOneIntervalIsNeverSent(t *testing.T) {
	ts := servertest.Start(t, server.Config{PresenceInterval: time.Second})
	w := dialJSON(t, ts, "name=w")
	brief, stays := dialJSON(t, ts, "name=brief"), dialJSON(t, ts, "name=stays")
	w.do(`{"type":"join","room":"r"}`)
	brief.do(`{"type":"join","room":"r"}`)
	brief.do(`{"type":"leave","room":"r"}`)
	stays.do(`{"type":"join","room":"r"}`)
	ev := w.expect("presence_diff")
	if got := names(t, ev["joins"]); !slices.Equal(got, []string{"stays"}) || ev["leaves"] != nil || ev["users"] != float64(2) {
		t.Fatalf("diff %v, want only stays's join and 2 users", ev)
	}
}

// A join's member list shows users whose own join has not gone out as a
// diff yet; when one of them leaves within the interval, the leave must
// still reach the member who was shown it.
func TestALeaveReachesAMemberWhoseJoinListedTheUser(t *testing.T) {
	ts := servertest.Start(t, server.Config{PresenceInterval: time.Second})
	w := dialJSON(t, ts, "name=w")
	brief, stays := dialJSON(t, ts, "name=brief"), dialJSON(t, ts, "name=stays")
	w.do(`{"type":"join","room":"r"}`)
	brief.do(`{"type":"join","room":"r"}`)
	if ack := stays.do(`{"type":"join","room":"r"}`); !slices.Contains(names(t, ack["members"]), "brief") {
		t.Fatalf("join ack %v does not list brief", ack)
	}
	brief.do(`{"type":"leave","room":"r"}`)
	for {
		ev := stays.expect("presence_diff")
		if slices.Contains(names(t, ev["leaves"]), "brief") {
			return
		}
	}
}

func TestAJoinListsTheFirstMembersAndCountsThemAll(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	var want []string
	for i := range 104 {
		name := fmt.Sprintf("u%03d", i)
		want = append(want, name)
		dialJSON(t, ts, "name="+name).do(`{"type":"join","room":"big"}`)
	}
	last := dialJSON(t, ts, "name=zed")
	ack := last.do(`{"type":"join","room":"big"}`)
	if got := names(t, ack["members"]); !slices.Equal(got, want[:100]) || ack["users"] != float64(105) {
		t.Fatalf("join listed %d members %v… and %v users, want the first 100 and 105", len(got), got[:min(3, len(got))], ack["users"])
	}
}

func TestWhoPagesWithinTheReplyBytes(t *testing.T) {
	ts := servertest.Start(t, server.Config{ReplyBytes: 40})
	var want []string
	for _, name := range []string{"dave", "Bob", "alice", "erin", "carol", "frank", "Grace"} {
		dialJSON(t, ts, "name="+name).do(`{"type":"join","room":"r"}`)
	}
	want = []string{"alice", "Bob", "carol", "dave", "erin", "frank", "Grace"}
	asker := dialJSON(t, ts, "name=zz")
	var got []string
	cursor, pages := "", 0
	for {
		ack := asker.do(fmt.Sprintf(`{"type":"who","room":"r","cursor":%q}`, cursor))
		page := names(t, ack["members"])
		if size := len(fmt.Sprintf("%q", page)); len(page) > 1 && size > 40+2 {
			t.Fatalf("page %v is %d bytes, over the reply bytes", page, size)
		}
		if ack["users"] != float64(7) {
			t.Fatalf("who %v, want 7 users", ack)
		}
		got = append(got, page...)
		pages++
		if ack["more"] != true {
			break
		}
		if ack["cursor"] != page[len(page)-1] {
			t.Fatalf("cursor %v, want the page's last name", ack["cursor"])
		}
		cursor = ack["cursor"].(string)
	}
	if !slices.Equal(got, want) || pages < 2 {
		t.Fatalf("%d pages gave %v, want %v in several pages", pages, got, want)
	}
}
