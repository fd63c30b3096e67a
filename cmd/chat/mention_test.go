package main

import (
	"io"
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestMentionsShownAndListed(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	st := servertest.SQLite(t)
	ts := servertest.Start(t, server.Config{Store: st, Accounts: st, PasswordParams: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	ctx := servertest.Context(t)
	login, err := client.Register(ctx, nil, ts.URL(), "bob", "bob's password")
	if err != nil {
		t.Fatal(err)
	}
	alice := peer(t, ts, "alice", "ops", "dev")
	r := startRun(t, "-url", ts.URL(), "-token", login.Token, "-room", "ops")
	waitOutput(t, r.out, "now talking in #ops")
	if _, err := alice.Send(ctx, "ops", "hi @bob"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, "[ops] alice: hi @bob (mentions you)")
	waitOutput(t, r.out, "[ops] @ alice mentioned you in #1: hi @bob")
	if _, err := alice.Send(ctx, "ops", "@Bob, over there"); err != nil {
		t.Fatal(err)
	}
	r.write(t, "/mentions\n/mentions x\n")
	waitOutput(t, r.out, "[ops] alice: @Bob, over there")
	waitOutput(t, r.err, "usage: /mentions [N]")
}

func TestMentionsJSON(t *testing.T) {
	orig := isTerminal
	isTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
	ts := servertest.Start(t, server.Config{})
	alice := peer(t, ts, "alice", "ops")
	r := startRun(t, "-url", ts.URL(), "-name", "bob", "-room", "ops", "-json")
	servertest.WaitFor(t, "bob present", func() bool {
		who, err := alice.Who(servertest.Context(t), "ops")
		return err == nil && len(who) == 2
	})
	if _, err := alice.Send(servertest.Context(t), "ops", "hi @bob"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, r.out, `{"type":"mention","room":"ops","seq":1,"from":"alice"`)
}
