package server_test

import (
	"context"
	"testing"
)

func TestOnlyExistingUsersCanBeInvited(t *testing.T) {
	ts, sign := startJWT(t)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	alice.do(`{"type":"create","id":"c","room":"secret","private":true}`)
	alice.do(`{"type":"join","id":"j","room":"secret"}`)
	alice.do(`{"type":"send","id":"s","room":"secret","text":"the plan"}`)

	// A name nobody has is no one to invite...
	if r := alice.request(`{"type":"invite","id":"i1","room":"secret","to":"quinn"}`); r["code"] != "unknown_user" {
		t.Fatalf("invite a name with no account: %v", r)
	}
	// ...so whoever registers it later is not a member.
	quinn := dialToken(t, ts, register(t, ts, "quinn", "quinn's password"))
	if r := quinn.request(`{"type":"history","id":"h","room":"secret"}`); r["code"] != "forbidden" {
		t.Fatalf("history of a room the name was invited to before it was registered: %v", r)
	}
	// Accounts and JWT users seen before can be invited.
	alice.do(`{"type":"invite","id":"i2","room":"secret","to":"Quinn"}`)
	rita := dialToken(t, ts, sign("rita"))
	alice.do(`{"type":"invite","id":"i3","room":"secret","to":"rita"}`)
	rita.do(`{"type":"history","id":"h","room":"secret"}`)
}

func TestAnInvitationToANameWithNoUserDoesNotPassToItsRegistrant(t *testing.T) {
	ts, st := startAccounts(t, nil)
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	alice.do(`{"type":"create","id":"c","room":"secret","private":true}`)
	// An invitation stored for a bare name, as older versions made them.
	if err := st.AddMember(context.Background(), "secret", "sam"); err != nil {
		t.Fatal(err)
	}
	sam := dialToken(t, ts, register(t, ts, "sam", "sam's password"))
	if r := sam.request(`{"type":"join","id":"j","room":"secret"}`); r["code"] != "forbidden" {
		t.Fatalf("join a room a bare name was invited to: %v", r)
	}
}
