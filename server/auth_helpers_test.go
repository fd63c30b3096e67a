package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/sqlite"
)

// cheapHashing keeps argon2id real but fast enough for the race detector.
var cheapHashing = auth.Params{Memory: 64, Time: 1, Threads: 1}

// startAccounts starts a server with accounts and history in a SQLite
// file; mod adjusts the configuration first.
func startAccounts(t *testing.T, mod func(*server.Config)) (*servertest.Server, *sqlite.Store) {
	t.Helper()
	st := servertest.SQLite(t)
	cfg := server.Config{Store: st, Accounts: st, PasswordParams: cheapHashing}
	if mod != nil {
		mod(&cfg)
	}
	return servertest.Start(t, cfg), st
}

// api calls the account API and decodes the JSON reply (nil for none).
func api(t *testing.T, ts *servertest.Server, method, path, token string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	return apiFrom(t, ts, "", method, path, token, body)
}

// apiFrom is api as a client whose address a trusted proxy forwards as
// forwardedFor ("" for none).
func apiFrom(t *testing.T, ts *servertest.Server, forwardedFor, method, path, token string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+ts.Addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var reply map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &reply); err != nil {
			t.Fatalf("%s %s: reply is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, reply, resp.Header
}

// errCode is the code of an API error reply.
func errCode(reply map[string]any) string {
	e, _ := reply["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// register creates an account and returns its login token.
func register(t *testing.T, ts *servertest.Server, name, password string) string {
	t.Helper()
	status, reply, _ := api(t, ts, "POST", "/api/register", "", map[string]string{"name": name, "password": password})
	if status != http.StatusCreated {
		t.Fatalf("register %s: %d %v", name, status, reply)
	}
	return reply["token"].(string)
}

func login(t *testing.T, ts *servertest.Server, name, password string) string {
	t.Helper()
	status, reply, _ := api(t, ts, "POST", "/api/login", "", map[string]string{"name": name, "password": password})
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %v", name, status, reply)
	}
	return reply["token"].(string)
}

// dialWith opens a JSON connection with opts, presenting a token however
// the options say.
func dialWith(t *testing.T, ts *servertest.Server, query string, opts *websocket.DialOptions) *jsonClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(ts, query), opts)
	if err != nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	t.Cleanup(func() { c.CloseNow() })
	jc := &jsonClient{client: &client{t: t, ws: c}}
	jc.welcome = jc.expect("welcome")
	return jc
}

// dialToken opens a JSON connection signed in with token, as a browser
// does: in the subprotocol list.
func dialToken(t *testing.T, ts *servertest.Server, token string) *jsonClient {
	t.Helper()
	return dialWith(t, ts, "", &websocket.DialOptions{Subprotocols: []string{"chatd.v1", "chatd.token." + token}})
}

// dialRefused attempts an upgrade that must fail, and returns its status
// and body.
func dialRefused(t *testing.T, ts *servertest.Server, query string, opts *websocket.DialOptions) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(ts, query), opts)
	if err == nil {
		c.CloseNow()
		t.Fatalf("dial %s: accepted", query)
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

func bearer(token string) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}}
}
