package systemtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
)

// buildChatd builds the chatd binary once for the test.
func buildChatd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chatd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/chatd/chatd/cmd/chatd").CombinedOutput(); err != nil {
		t.Fatalf("build chatd: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address nothing listens on. Another program
// may take it before it is used; the ports are random enough that it does
// not happen in practice.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a program the test started, with its output kept in a file that
// is printed when the test fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string

	mu     sync.Mutex
	exited bool
}

// start runs bin with args, its stdout and stderr going to a log file; the
// process is killed when the test ends.
func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(t.TempDir(), name+".log")}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = t.TempDir()
	p.cmd.SysProcAttr = procAttr()
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s's output:\n%s", name, tail(string(b), 60))
		}
	})
	return p
}

// kill ends the process with SIGKILL and waits for it; calling it again
// does nothing.
func (p *proc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return
	}
	p.exited = true
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// waitLog waits until the process's output matches re, and returns the
// first submatch.
func (p *proc) waitLog(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		f, err := os.Open(p.log)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				f.Close()
				return m[len(m)-1]
			}
		}
		f.Close()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never logged %s", p.name, re)
	return ""
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// node is one chatd process of the cluster.
type node struct {
	*proc
	addr string // host:port of its HTTP and WebSocket listener
}

func (n *node) url() string { return "ws://" + n.addr + "/ws" }

// startCluster starts len(ids) chatd nodes of bin on the PostgreSQL
// database dsn, each embedding a NATS server routed to the others', and
// waits until each is ready.
func startCluster(t *testing.T, bin, dsn string, ids ...string) []*node {
	t.Helper()
	routes := make([]string, len(ids))
	for i := range ids {
		routes[i] = "nats://" + freeAddr(t)
	}
	nodes := make([]*node, len(ids))
	for i, id := range ids {
		addr := freeAddr(t)
		p := start(t, "chatd-"+id, bin,
			"-addr", addr,
			"-store", dsn,
			"-node-id", id,
			"-nats-cluster", strings.TrimPrefix(routes[i], "nats://"),
			"-nats-routes", strings.Join(routes, ","),
			"-trusted-proxies", "127.0.0.1",
			"-log-level", "info")
		nodes[i] = &node{proc: p, addr: addr}
	}
	for _, n := range nodes {
		n.waitLog(t, regexp.MustCompile(`chatd listening`))
		waitReady(t, "http://"+n.addr+"/readyz")
	}
	return nodes
}

// httpClient keeps no idle connection, which would outlive the test.
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// waitReady polls url until it answers 200.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := httpClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 30s (%v)", url, cmpErr(err, resp))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func cmpErr(err error, resp *http.Response) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(resp.StatusCode)
}

// schemaDSN returns a DSN of a PostgreSQL schema of the test's own.
func schemaDSN(t *testing.T) string {
	t.Helper()
	dsn, _ := servertest.PostgresSchema(t)
	return dsn
}

// runOutput runs bin with args to its end and returns what it printed.
func runOutput(bin string, args ...string) ([]byte, error) {
	return exec.Command(bin, args...).CombinedOutput()
}
