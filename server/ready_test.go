package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

func TestReadyzFailsWhileTheStoreIsDownAndHealthzDoesNot(t *testing.T) {
	if status, body := httpGet(t, "http://"+servertest.Start(t, server.Config{}).Addr+"/readyz", nil); status != http.StatusOK || body != "ok\n" {
		t.Fatalf("readyz without a store: %d %q", status, body)
	}

	ts, st := startAccounts(t, nil)
	base := "http://" + ts.Addr
	if status, body := httpGet(t, base+"/readyz", nil); status != http.StatusOK || body != "ok\n" {
		t.Fatalf("readyz with a working store: %d %q", status, body)
	}
	c := dialJSON(t, ts, "room=r")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if r := c.request(`{"type":"send","id":"s","room":"r","text":"lost"}`); r["type"] != "error" {
		t.Fatalf("a send with the store closed: %v", r)
	}
	status, body := httpGet(t, base+"/readyz", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Fatalf("readyz with the store closed: %d %q", status, body)
	}
	if status, _ := httpGet(t, base+"/healthz", nil); status != http.StatusOK {
		t.Fatalf("healthz with the store closed: %d", status)
	}
}
