package bench

import (
	"errors"
	"net"
	"sync"
	"syscall"
)

// errorLog counts errors by kind.
type errorLog struct {
	mu sync.Mutex
	m  map[string]int
}

const maxErrorKinds = 20

func (l *errorLog) add(prefix string, err error) {
	l.addN(prefix+errKey(err), 1)
}

func (l *errorLog) addN(key string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]int)
	}
	if _, ok := l.m[key]; !ok && len(l.m) >= maxErrorKinds {
		key = "other errors"
	}
	l.m[key] += n
}

// errKey drops addresses and call names from network errors so that errors
// of one kind share a key.
func errKey(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

func (l *errorLog) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) == 0 {
		return nil
	}
	m := make(map[string]int, len(l.m))
	for k, v := range l.m {
		m[k] = v
	}
	return m
}
