package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func buildChatd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chatd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startChatd runs the binary on a random port and returns its WebSocket URL.
func startChatd(t *testing.T, bin string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	return startChatdEnv(t, bin, nil, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
}

// startChatdEnv runs the binary with extra environment variables, in a
// temporary working directory, and returns its WebSocket URL once it logs it.
func startChatdEnv(t *testing.T, bin string, env []string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	logs := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`websocket=(wss?://\S+)`)
	for logs.Scan() {
		if m := re.FindStringSubmatch(logs.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return m[1], cmd
		}
	}
	t.Fatal("chatd never logged its address")
	return "", nil
}

func jsonDo(t *testing.T, ctx context.Context, c *websocket.Conn, req string) map[string]any {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
		t.Fatal(err)
	}
	for {
		_, p, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(p, &ev); err != nil {
			t.Fatal(err)
		}
		if ev["type"] == "ack" || ev["type"] == "error" {
			return ev
		}
	}
}

func TestSQLiteStoreKeepsMessagesAcrossRestarts(t *testing.T) {
	bin := buildChatd(t)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	url, cmd := startChatd(t, bin, "-store", "sqlite", "-data", data)
	c, _, err := websocket.Dial(ctx, url+"?room=kept&name=a", &websocket.DialOptions{Subprotocols: []string{"chatd.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"first", "second"} {
		if ack := jsonDo(t, ctx, c, `{"type":"send","room":"kept","text":"`+text+`"}`); ack["type"] != "ack" {
			t.Fatal(ack)
		}
	}
	// A second chatd on the same data directory is refused clearly.
	out, err := exec.Command(bin, "-addr", "127.0.0.1:0", "-store", "sqlite", "-data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("second chatd on one database: %v\n%s", err, out)
	}
	c.CloseNow()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("chatd exit: %v", err)
	}

	url, _ = startChatd(t, bin, "-store", "sqlite", "-data", data)
	plain, _, err := websocket.Dial(ctx, url+"?room=kept&history=5", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.CloseNow()
	for _, want := range []string{"first", "second"} {
		_, p, err := plain.Read(ctx)
		if err != nil || string(p) != want {
			t.Fatalf("history after restart: %q %v, want %q", p, err, want)
		}
	}
}

func TestStoreFlagIsChecked(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-store", "mysql://x"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "want memory, sqlite") {
		t.Fatalf("unknown store: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-store", "sqlite", "-data", dir}, func(string) (string, bool) { return "", false }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "sqlite store") {
		t.Fatalf("data dir that is a file: %v", err)
	}
}
