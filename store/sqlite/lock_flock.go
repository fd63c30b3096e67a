//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// fileLock is an exclusive flock on a file that holds the pid of its owner.
type fileLock struct{ f *os.File }

// lockFile creates path if needed and takes an exclusive lock on it without
// waiting. If another open file (of this or another process) holds the lock,
// it fails with an error naming the pid written there by the holder.
func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "process " + strconv.Itoa(pid)
				if pid == os.Getpid() {
					holder += " (this one)"
				}
			}
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the database is in use by %s (it holds the lock on %s)", holder, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// The pid is only informative; failing to write it is no reason to fail.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &fileLock{f: f}, nil
}

// unlock releases the lock. The file stays: removing it would let a process
// that opened it just before lock a file nobody else can see.
func (l *fileLock) unlock() error {
	return l.f.Close()
}
