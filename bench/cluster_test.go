package bench_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/bench"
)

// TestSeveralURLs spreads the connections over two servers, as over the
// nodes of a cluster: the two listeners share one hub, so every message
// still reaches everyone, and each listener gets its turn of the
// connections in turn.
func TestSeveralURLs(t *testing.T) {
	h := newHub(t, false, false)
	var second atomic.Int64
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		second.Add(1)
		h.serve(w, r)
	}))
	t.Cleanup(srv2.Close)
	url2 := "ws" + strings.TrimPrefix(srv2.URL, "http") + "/ws"
	res := run(t, bench.Config{
		URL:      h.url() + "," + url2,
		Conns:    21,
		Senders:  2,
		Rate:     200,
		Duration: 300 * time.Millisecond,
	})
	checkClean(t, res)
	checkDelivered(t, res)
	if n := second.Load(); n != 10 {
		t.Errorf("the second server got %d of 21 connections, want 10", n)
	}
	if !strings.Contains(res.URL, url2) || !strings.Contains(res.URL, "room=bench") {
		t.Errorf("result URL %q, want both URLs with the room", res.URL)
	}
}

// TestPIDTreeCountsDescendants measures a process whose child burns CPU
// until it is killed: the tree's CPU counts the child while it runs, and
// once it is gone (and waited for) counts its time once, in the parent's
// count of its children, so that nothing more is used.
func TestPIDTreeCountsDescendants(t *testing.T) {
	cmd := exec.Command("sh", "-c", `while :; do :; done & echo $!; wait; exec sleep 60`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	measure := func(trees []int) float64 {
		t.Helper()
		res, err := bench.Run(t.Context(), bench.Config{
			URL:      newHub(t, false, false).url(),
			Scenario: bench.ScenarioIdle,
			Conns:    1,
			Duration: time.Second,
			PIDs:     []int{cmd.Process.Pid},
			PIDTrees: trees,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.ServerCPU == nil {
			t.Fatalf("no server CPU: %s", res.ServerProcErr)
		}
		return *res.ServerCPU
	}
	// The shell itself waits: alone it uses nothing, with its tree the
	// looping child's share of a core. How large a share depends on how
	// busy the machine is, so any CPU at all shows the child was counted.
	if cpu := measure(nil); cpu > 5 {
		t.Errorf("the waiting shell alone used %.1f%% of a core, want about 0", cpu)
	}
	if cpu := measure([]int{cmd.Process.Pid}); cpu <= 0 {
		t.Errorf("with its looping child the tree used %.1f%% of a core, want it counted", cpu)
	}
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/comm")
		if err == nil && strings.TrimSpace(string(b)) == "sleep" {
			break // the shell has waited for the child
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell did not reap its child within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if cpu := measure([]int{cmd.Process.Pid}); cpu > 5 {
		t.Errorf("after the child was reaped the tree used %.1f%% of a core, want about 0", cpu)
	}
}
