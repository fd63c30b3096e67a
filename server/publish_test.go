package server_test

import (
	"net/http"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestPublishAPI(t *testing.T) {
	const key = "k3y-for-backends-only"
	ts, _ := startAccounts(t, func(c *server.Config) { c.APIKey = key })
	alice := dialToken(t, ts, register(t, ts, "alice", "alice's password"))
	alice.do(`{"type":"join","id":"j","room":"deploys"}`)

	post := func(token, room string, body map[string]any) (int, map[string]any) {
		t.Helper()
		status, reply, _ := api(t, ts, "POST", "/api/rooms/"+room+"/messages", token, body)
		return status, reply
	}
	if status, _ := post("", "deploys", map[string]any{"text": "x"}); status != http.StatusUnauthorized {
		t.Fatalf("no key: %d", status)
	}
	if status, _ := post(key+"x", "deploys", map[string]any{"text": "x"}); status != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", status)
	}
	for _, body := range []map[string]any{{}, {"text": "x", "from": "no spaces please"}, {"text": 5}} {
		if status, reply := post(key, "deploys", body); status != http.StatusBadRequest {
			t.Fatalf("body %v: %d %v", body, status, reply)
		}
	}

	status, reply := post(key, "Deploys", map[string]any{"text": "v1.2 is live", "from": "deploy-bot", "client_msg_id": "d-1"})
	if status != http.StatusCreated || reply["room"] != "deploys" || reply["seq"] != float64(1) {
		t.Fatalf("post: %d %v", status, reply)
	}
	if m := alice.expect("message"); m["text"] != "v1.2 is live" || m["from"] != "deploy-bot" || m["seq"] != float64(1) {
		t.Fatalf("alice got %v", m)
	}
	// A retry with the same client_msg_id is found, not posted again.
	if status, reply := post(key, "deploys", map[string]any{"text": "v1.2 is live", "from": "deploy-bot", "client_msg_id": "d-1"}); status != http.StatusOK || reply["duplicate"] != true || reply["seq"] != float64(1) {
		t.Fatalf("retry: %d %v", status, reply)
	}

	// A room nobody is in keeps the message for whoever joins later, and
	// its sequence goes on from there.
	for i, text := range []string{"first", "second"} {
		if status, reply := post(key, "empty", map[string]any{"text": text}); status != http.StatusCreated || reply["seq"] != float64(i+1) {
			t.Fatalf("post to an empty room: %d %v", status, reply)
		}
	}
	msgs, _ := alice.joinCollect(`{"type":"join","id":"e","room":"empty","history":5}`)
	if len(msgs) != 2 || msgs[0]["from"] != "api" || msgs[1]["text"] != "second" {
		t.Fatalf("history of the empty room: %v", msgs)
	}
}

func TestPublishAPIIsOffWithoutAKey(t *testing.T) {
	ts := servertest.Start(t, server.Config{})
	status, reply, _ := api(t, ts, "POST", "/api/rooms/lobby/messages", "anything", map[string]any{"text": "x"})
	if status != http.StatusNotFound || errCode(reply) != "not_found" {
		t.Fatalf("%d %v", status, reply)
	}
}
