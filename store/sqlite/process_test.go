//go:build linux

package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/sqlite"
)

// TestLockedByAnotherStore: a second Open of the same database, in this
// process, fails at once and works again after the first Close.
func TestLockedByAnotherStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s1, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(context.Background(), path)
	if err == nil {
		s2.Close()
		s1.Close()
		t.Fatal("a second Open of the same database succeeded")
	}
	if !strings.Contains(err.Error(), "in use by process") {
		t.Fatalf("second Open = %v, want it to say the database is in use", err)
	}
	t.Logf("second Open: %v", err)
	s1.Close()
	s2, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// TestLockedByAnotherProcess runs this test binary again as a helper that
// holds the database open, then kills it with SIGKILL: while it lives Open
// fails naming its pid, and its death frees the database.
func TestLockedByAnotherProcess(t *testing.T) {
	if os.Getenv("CHATD_SQLITE_HOLDER") != "" {
		t.Skip("helper process")
	}
	path := filepath.Join(t.TempDir(), "chat.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldDatabase$")
	cmd.Env = append(os.Environ(), "CHATD_SQLITE_HOLDER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "holding" {
				ready <- nil
				return
			}
		}
		ready <- fmt.Errorf("helper ended without holding the database: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("helper did not open the database in 20s")
	}

	s, err := sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded while another process holds the database")
	}
	if want := fmt.Sprintf("in use by process %d", cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Fatalf("Open = %v, want it to say %q", err, want)
	}
	t.Logf("Open: %v", err)

	cmd.Process.Kill() // kill -9: no Close, no cleanup
	cmd.Wait()
	s, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open after the holder died: %v", err)
	}
	defer s.Close()
	// What the holder appended before it was killed is there.
	if last, err := s.LastSeq(context.Background(), "held"); err != nil || last != 3 {
		t.Fatalf("LastSeq after kill -9 = %d, %v; want 3", last, err)
	}
}

// TestHoldDatabase is the helper of TestLockedByAnotherProcess.
func TestHoldDatabase(t *testing.T) {
	path := os.Getenv("CHATD_SQLITE_HOLDER")
	if path == "" {
		t.Skip("only run by TestLockedByAnotherProcess")
	}
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.Append(context.Background(), []store.Message{
		{Room: "held", Seq: 1, Time: now}, {Room: "held", Seq: 2, Time: now}, {Room: "held", Seq: 3, Time: now},
	}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("holding")
	time.Sleep(time.Minute) // until killed
}

// TestOpenUnreadable checks the error for a database file that cannot be
// read. Root reads any file, so as root it runs itself again as nobody.
func TestOpenUnreadable(t *testing.T) {
	dir := os.Getenv("CHATD_SQLITE_UNREADABLE")
	if dir == "" && os.Geteuid() == 0 {
		runAsNobody(t, "^TestOpenUnreadable$", "CHATD_SQLITE_UNREADABLE")
		return
	}
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "chat.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreadable file succeeded")
	}
	if !strings.Contains(err.Error(), "permission") {
		t.Fatalf("Open of an unreadable file = %v, want it to mention permissions", err)
	}
	t.Logf("Open: %v", err)
}

// runAsNobody runs the tests matching run in a copy of this test binary as
// the user nobody, with env set to a directory nobody may write.
func runAsNobody(t *testing.T, run, env string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "store.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(work, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run="+run, "-test.v")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), env+"="+work, "HOME="+work, "TMPDIR="+work)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	if err != nil {
		t.Fatalf("as nobody: %v", err)
	}
}
