package server_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/server"
)

// TestRequestsAreRateLimitedPerClass runs each class of request past its
// burst on a connection of its own, with the rates scaled down so that
// every burst is a request or two: the request over it is refused with
// rate_limited, and the other classes, and sending, are not held up.
func TestRequestsAreRateLimitedPerClass(t *testing.T) {
	cases := []struct {
		name  string
		first []string // within the burst: answered, whether acked or not
		over  string
	}{
		{"join", []string{`{"type":"join","id":"1","room":"a"}`}, `{"type":"join","id":"2","room":"b"}`},
		{"history", []string{`{"type":"history","id":"1","room":"lab","limit":100}`}, `{"type":"history","id":"2","room":"lab","limit":100}`},
		{"rooms", []string{`{"type":"rooms","id":"1"}`}, `{"type":"rooms","id":"2"}`},
		{"who and members", []string{`{"type":"who","id":"1","room":"lab"}`}, `{"type":"members","id":"2","room":"lab"}`},
		{"create, invite and remove", []string{`{"type":"create","id":"1","room":"mine","private":true}`}, `{"type":"invite","id":"2","room":"mine","to":"nobody"}`},
		{"typing and read", []string{`{"type":"typing","id":"1","room":"lab"}`, `{"type":"read","id":"2","room":"lab","seq":1}`}, `{"type":"typing","id":"3","room":"lab"}`},
	}
	// A hundredth of the defaults: bursts of 1 or 2, refills far slower
	// than the test.
	ts, _ := startAccounts(t, func(c *server.Config) { c.RequestRate = 0.01; c.JoinHistory = -1 })
	tok := register(t, ts, "rhea", "rhea's password")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialToken(t, ts, tok)
			for _, raw := range tc.first {
				if r := c.request(raw); r["code"] == "rate_limited" {
					t.Fatalf("%s within the burst: %v", raw, r)
				}
			}
			r := c.request(tc.over)
			if r["type"] != "error" || r["code"] != "rate_limited" || r["id"] == nil || r["retry_after_ms"] == nil {
				t.Fatalf("%s over the burst: %v", tc.over, r)
			}
			if tc.name != "rooms" {
				c.do(`{"type":"rooms","id":"other"}`)
			}
		})
	}
}

// TestARejoinOfEveryRoomIsNotRateLimited does what the browser client does
// on a reconnect, at the default rates: rejoin every room a connection may
// be in, recovering each, fetch their rosters, mark them read and list the
// rooms. None of it may be refused.
func TestARejoinOfEveryRoomIsNotRateLimited(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	tok := register(t, ts, "gaia", "gaia's password")
	c := dialToken(t, ts, tok)
	const rooms = 100 // the default -max-rooms
	for i := range rooms {
		c.do(fmt.Sprintf(`{"type":"join","id":"j%d","room":"r%d","since":0}`, i, i))
	}
	for i := range rooms {
		c.do(fmt.Sprintf(`{"type":"who","id":"w%d","room":"r%d"}`, i, i))
		c.do(fmt.Sprintf(`{"type":"read","id":"m%d","room":"r%d","seq":1}`, i, i))
		c.do(fmt.Sprintf(`{"type":"typing","id":"t%d","room":"r%d"}`, i, i))
	}
	for i := range 5 {
		c.do(fmt.Sprintf(`{"type":"history","id":"h%d","room":"r0","limit":1000}`, i))
		c.do(fmt.Sprintf(`{"type":"rooms","id":"l%d"}`, i))
	}
}

func TestAnAccountOwnsAtMostRoomsPerAccount(t *testing.T) {
	ts, _ := startAccounts(t, func(c *server.Config) { c.RoomsPerAccount = 2 })
	c := dialToken(t, ts, register(t, ts, "hera", "hera's password"))
	c.do(`{"type":"create","id":"1","room":"one","private":true}`)
	c.do(`{"type":"create","id":"2","room":"two"}`)
	if r := c.request(`{"type":"create","id":"3","room":"three","private":true}`); r["code"] != "room_quota" {
		t.Fatalf("a third room: %v", r)
	}
	other := dialToken(t, ts, register(t, ts, "zeus", "zeus's password"))
	other.do(`{"type":"create","id":"1","room":"three","private":true}`)
}
