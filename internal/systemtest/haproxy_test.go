package systemtest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// haproxyBinary returns the HAProxy of CHATD_TEST_HAPROXY. Without it the
// test is skipped, except in CI (CI=true), where it fails: what needs
// HAProxy must be tested there.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CHATD_TEST_HAPROXY")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CHATD_TEST_HAPROXY is not set, and CI must run the tests that need HAProxy")
		}
		t.Skip("CHATD_TEST_HAPROXY is not set (CHATD_TEST_HAPROXY=$(scripts/haproxy-test-binary) installs and names one)")
	}
	return bin
}

// documentedHAProxy returns the HAProxy configuration that docs/deploy.md
// shows (its haproxy block), so that the test runs what operators are told
// to run.
func documentedHAProxy(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```haproxy\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/deploy.md has no ```haproxy block")
	}
	return string(m[1])
}

// renderHAProxy fills the documented configuration in for this machine:
// the frontend binds listen instead of :80, and the backend's servers, in
// their order, are the nodes' addresses instead of 10.0.0.N:8082.
func renderHAProxy(t *testing.T, conf, listen string, nodes []*node) string {
	t.Helper()
	if !strings.Contains(conf, "bind :80\n") {
		t.Fatal("the documented HAProxy configuration has no \"bind :80\"")
	}
	conf = strings.Replace(conf, "bind :80\n", "bind "+listen+"\n", 1)
	servers := regexp.MustCompile(`10\.0\.0\.\d+:8082`)
	i := 0
	conf = servers.ReplaceAllStringFunc(conf, func(string) string {
		i++
		if i > len(nodes) {
			return "unused:1"
		}
		return nodes[i-1].addr
	})
	if i != len(nodes) {
		t.Fatalf("the documented HAProxy configuration has %d servers, the test %d nodes", i, len(nodes))
	}
	return conf
}

// startHAProxy runs HAProxy in front of nodes with the documented
// configuration and returns the WebSocket URL clients dial through it.
func startHAProxy(t *testing.T, bin string, nodes []*node) string {
	t.Helper()
	listen := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(renderHAProxy(t, documentedHAProxy(t), listen, nodes)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runOutput(bin, "-c", "-f", cfg); err != nil {
		t.Fatalf("haproxy refuses the documented configuration: %v\n%s", err, out)
	}
	// -db: in the foreground, not as a daemon.
	start(t, "haproxy", bin, "-db", "-f", cfg)
	waitReady(t, "http://"+listen+"/readyz")
	return fmt.Sprintf("ws://%s/ws", listen)
}
