package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestPrivateRoomAdmitsMembersOnly(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	bobToken := register(t, ts, "bob", "bob's password")
	bob := dialToken(t, ts, bobToken)
	guest := dialJSON(t, ts, "name=bob2")

	alice.do(`{"type":"create","id":"c","room":"Secret","private":true}`)
	alice.do(`{"type":"join","id":"j","room":"secret"}`)
	alice.do(`{"type":"send","id":"s","room":"secret","text":"the plan"}`)

	refusals := map[string]string{
		`{"type":"join","id":"1","room":"secret"}`:                    "forbidden",
		`{"type":"history","id":"2","room":"secret"}`:                 "forbidden",
		`{"type":"who","id":"3","room":"secret"}`:                     "forbidden",
		`{"type":"members","id":"4","room":"secret"}`:                 "forbidden",
		`{"type":"send","id":"5","room":"secret","text":"x"}`:         "not_member",
		`{"type":"invite","id":"6","room":"secret","to":"bob"}`:       "forbidden",
		`{"type":"create","id":"7","room":"secret","private":true}`:   "conflict",
		`{"type":"join","id":"8","room":"secret","since":0}`:          "forbidden",
		`{"type":"history","id":"9","room":"secret","after":0}`:       "forbidden",
		`{"type":"typing","id":"10","room":"secret"}`:                 "not_member",
		`{"type":"read","id":"11","room":"secret","seq":1}`:           "not_member",
		`{"type":"remove","id":"12","room":"secret","to":"alice"}`:    "forbidden",
		`{"type":"create","id":"13","room":"mine","private":true}`:    "",
		`{"type":"create","id":"14","room":"hideout","private":true}`: "",
	}
	for req, code := range refusals {
		for who, c := range map[string]*jsonClient{"bob": bob, "guest": guest} {
			want := code
			if strings.Contains(req, `"create"`) && who == "guest" {
				want = "forbidden" // guests create no rooms
			} else if code == "" {
				continue // bob may create rooms of his own
			}
			if r := c.request(req); r["code"] != want {
				t.Errorf("%s %s: got %v, want %s", who, req, r, want)
			}
		}
	}
	for who, c := range map[string]*jsonClient{"bob": bob, "guest": guest} {
		rooms, _ := c.do(`{"type":"rooms","id":"r"}`)["rooms"].([]any)
		for _, r := range rooms {
			if r.(map[string]any)["room"] == "secret" {
				t.Fatalf("%s sees the private room: %v", who, rooms)
			}
		}
	}
	// Plain clients cannot enter it either, signed in or not.
	if status, _ := dialRefused(t, ts, "room=secret", bearer(bobToken)); status != http.StatusForbidden {
		t.Fatalf("plain member of nothing: %d", status)
	}
	if status, _ := dialRefused(t, ts, "room=secret", nil); status != http.StatusForbidden {
		t.Fatalf("plain guest: %d", status)
	}

	// Invited, bob is told, sees the room, its history, and chats.
	alice.do(`{"type":"invite","id":"i","room":"secret","to":"Bob"}`)
	if ev := bob.expect("invited"); ev["room"] != "secret" || ev["from"] != "alice" {
		t.Fatalf("invited %v", ev)
	}
	msgs, _ := bob.joinCollect(`{"type":"join","id":"j","room":"secret","history":10}`)
	if len(msgs) != 1 || msgs[0]["text"] != "the plan" {
		t.Fatalf("history on join: %v", msgs)
	}
	members := bob.do(`{"type":"members","id":"m","room":"secret"}`)["members"].([]any)
	if !slices.Equal(members, []any{"alice", "bob"}) {
		t.Fatalf("members %v", members)
	}
	rooms := bob.do(`{"type":"rooms","id":"r"}`)["rooms"].([]any)
	if !slices.ContainsFunc(rooms, func(r any) bool {
		m := r.(map[string]any)
		return m["room"] == "secret" && m["private"] == true
	}) {
		t.Fatalf("bob's rooms %v", rooms)
	}
	bob.do(`{"type":"send","id":"s","room":"secret","text":"count me in"}`)
	if m := alice.expect("message"); m["text"] != "count me in" {
		t.Fatalf("alice got %v", m)
	}

	// Removed, bob's connection is taken out at once, and stays out.
	alice.do(`{"type":"remove","id":"x","room":"secret","to":"bob"}`)
	if ev := bob.expect("removed"); ev["room"] != "secret" || ev["by"] != "alice" {
		t.Fatalf("removed %v", ev)
	}
	for req, code := range map[string]string{
		`{"type":"send","id":"5","room":"secret","text":"still here?"}`: "not_member",
		`{"type":"join","id":"1","room":"secret"}`:                      "forbidden",
		`{"type":"history","id":"2","room":"secret"}`:                   "forbidden",
	} {
		if r := bob.request(req); r["code"] != code {
			t.Errorf("after removal %s: %v, want %s", req, r, code)
		}
	}
	alice.do(`{"type":"send","id":"s2","room":"secret","text":"now without bob"}`)
	bob.do(`{"type":"rooms","id":"sync"}`)
	// Nothing of the room reached bob after his removal.
	for {
		if _, err := bob.tryRead(200 * 1e6); err != nil {
			break
		}
		t.Fatal("bob received something after his removal")
	}
}

func TestRoomThatIsInUseCannotBecomePrivate(t *testing.T) {
	ts, _ := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	guest := dialJSON(t, ts, "")
	guest.do(`{"type":"join","id":"j","room":"town"}`)
	if r := alice.request(`{"type":"create","id":"c","room":"town","private":true}`); r["code"] != "conflict" {
		t.Fatalf("create a room in use: %v", r)
	}
	guest.do(`{"type":"send","id":"s","room":"town","text":"x"}`)
	guest.do(`{"type":"leave","id":"l","room":"town"}`)
	// Empty now, but it has history.
	if r := alice.request(`{"type":"create","id":"c","room":"town","private":true}`); r["code"] != "conflict" {
		t.Fatalf("create a room with history: %v", r)
	}
	plain := dial(t, ts, "room=fresh")
	servertest.WaitFor(t, "the plain client to be in", func() bool { return ts.Stats().Conns == 3 })
	if r := alice.request(`{"type":"create","id":"c","room":"fresh","private":true}`); r["code"] != "conflict" {
		t.Fatalf("create a room a plain client is in: %v", r)
	}
	plain.ws.Close(websocket.StatusNormalClosure, "")
}

func TestJWTRoomGrantsAdmitToPrivateRooms(t *testing.T) {
	secret := []byte(strings.Repeat("g", 32))
	v, err := auth.NewVerifier(auth.JWTConfig{HMACSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startAccounts(t, func(c *server.Config) { c.JWT = v })
	owner := dialToken(t, ts, register(t, ts, "owner", "owner's password"))
	owner.do(`{"type":"create","id":"c","room":"ops","private":true}`)
	jwtFor := func(claims jwt.MapClaims) string {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	granted := dialToken(t, ts, jwtFor(jwt.MapClaims{"sub": "u1", "name": "pat", "rooms": []string{"OPS"}}))
	other := dialToken(t, ts, jwtFor(jwt.MapClaims{"sub": "u2", "name": "sam", "rooms": []string{"elsewhere"}}))
	granted.do(`{"type":"join","id":"j","room":"ops"}`)
	rooms := granted.do(`{"type":"rooms","id":"r"}`)["rooms"].([]any)
	if len(rooms) != 1 || rooms[0].(map[string]any)["private"] != true {
		t.Fatalf("rooms of the granted user: %v", rooms)
	}
	if r := other.request(`{"type":"join","id":"j","room":"ops"}`); r["code"] != "forbidden" {
		t.Fatalf("JWT without the grant: %v", r)
	}
	// The owner cannot take away what the token grants.
	owner.do(`{"type":"remove","id":"x","room":"ops","to":"pat"}`)
	granted.do(`{"type":"send","id":"s","room":"ops","text":"still in"}`)
}
