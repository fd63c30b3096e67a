package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/memory"
)

func TestScriptSignsInWithAToken(t *testing.T) {
	ts := servertest.Start(t, server.Config{Auth: server.AuthRequired, Accounts: memory.NewAccounts(),
		PasswordParams: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	token := func(name string) string {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"name": name, "password": name + "'s password"})
		resp, err := http.Post("http://"+ts.Addr+"/api/register", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var reply struct{ Token string }
		if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&reply) != nil {
			t.Fatalf("register %s: %s", name, resp.Status)
		}
		return reply.Token
	}
	watcher, err := client.Dial(servertest.Context(t), ts.URL(), client.Options{Token: token("watcher"), Rooms: []string{"ops"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watcher.Close() })

	var out, errb bytes.Buffer
	if code := run(servertest.Context(t), []string{"-url", ts.URL(), "-room", "ops", "-token", token("deployer")}, strings.NewReader("shipped\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, &errb)
	}
	if m := servertest.Next[*client.Message](t, watcher); m.Text != "shipped" || m.From != "deployer" {
		t.Fatalf("got %s", m.Raw)
	}
	// Without a token the server refuses, and chat says why.
	errb.Reset()
	if code := run(servertest.Context(t), []string{"-url", ts.URL(), "-room", "ops", "-token", ""}, strings.NewReader("x\n"), &out, &errb); code != 1 || !strings.Contains(errb.String(), "401") {
		t.Fatalf("no token: exit %d, stderr %q", code, &errb)
	}
}

func TestRegisterAndLogInFromTheCommandLine(t *testing.T) {
	ts := servertest.Start(t, server.Config{Auth: server.AuthRequired, Accounts: memory.NewAccounts(),
		PasswordParams: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	t.Setenv("CHATD_PASSWORD", "quinn's password")
	var out, errb bytes.Buffer
	if code := run(servertest.Context(t), []string{"-url", ts.URL(), "-room", "ops", "-register", "quinn"}, strings.NewReader("first\n"), &out, &errb); code != 0 {
		t.Fatalf("register: exit %d; stderr:\n%s", code, &errb)
	}
	login, err := client.LogIn(servertest.Context(t), nil, ts.URL(), "quinn", "quinn's password")
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := client.Dial(servertest.Context(t), ts.URL(), client.Options{Token: login.Token, Rooms: []string{"ops"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watcher.Close() })
	if code := run(servertest.Context(t), []string{"-url", ts.URL(), "-room", "ops", "-login", "Quinn"}, strings.NewReader("second\n"), &out, &errb); code != 0 {
		t.Fatalf("login: exit %d; stderr:\n%s", code, &errb)
	}
	if m := servertest.Next[*client.Message](t, watcher); m.Text != "second" || m.From != "quinn" {
		t.Fatalf("got %s", m.Raw)
	}
	errb.Reset()
	t.Setenv("CHATD_PASSWORD", "not quinn's password")
	if code := run(servertest.Context(t), []string{"-url", ts.URL(), "-login", "quinn"}, strings.NewReader("x\n"), &out, &errb); code != 1 || !strings.Contains(errb.String(), "invalid_credentials") {
		t.Fatalf("wrong password: exit %d, stderr %q", code, &errb)
	}
	_, err = client.LogIn(servertest.Context(t), nil, ts.URL(), "quinn", "wrong password")
	if ae, ok := errors.AsType[*client.APIError](err); !ok || ae.StatusCode != http.StatusUnauthorized || ae.Code != "invalid_credentials" {
		t.Fatalf("LogIn with a wrong password: %v", err)
	}
}
