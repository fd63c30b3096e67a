package server

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// readyTimeout bounds the store checks of one readiness request.
const readyTimeout = 2 * time.Second

// commitFailureWindow is how long a failed commit keeps the server not
// ready: long enough for a load balancer's probe to see it, short enough
// that a store that recovered, but receives no messages because no
// traffic is routed here, does not keep the server out for good.
const commitFailureWindow = 10 * time.Second

// commitFailure is the most recent failed commit.
type commitFailure struct {
	at  time.Time
	err error
}

// commitHealth remembers the outcome of the latest store commit.
type commitHealth struct {
	last atomic.Pointer[commitFailure] // nil after a successful commit
}

// observe is the journals' OnCommit: it records the outcome and passes it
// on to next, if set.
func (h *commitHealth) observe(next func(int, time.Duration, error)) func(int, time.Duration, error) {
	return func(size int, took time.Duration, err error) {
		if err != nil {
			h.last.Store(&commitFailure{at: time.Now(), err: err})
		} else if h.last.Load() != nil {
			h.last.Store(nil)
		}
		if next != nil {
			next(size, took, err)
		}
	}
}

// handleReady answers GET /readyz: 200 while the server can serve chat
// (its stores answer reads and writes, and no commit failed in the last
// commitFailureWindow), 503 with the reason otherwise. GET /healthz only
// says that the process is serving.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) ready(ctx context.Context) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errShuttingDown
	}
	if st := s.cfg.Store; st != nil {
		if err := st.Ping(ctx); err != nil {
			return fmt.Errorf("history store: %w", err)
		}
	}
	if a := s.cfg.Accounts; a != nil && any(a) != any(s.cfg.Store) {
		if err := a.Ping(ctx); err != nil {
			return fmt.Errorf("account store: %w", err)
		}
	}
	if s.cfg.Relay != nil {
		if err := s.cfg.Relay.Ready(ctx); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
	}
	if f := s.commits.last.Load(); f != nil && time.Since(f.at) < commitFailureWindow {
		return fmt.Errorf("a commit failed %v ago: %w", time.Since(f.at).Round(time.Millisecond), f.err)
	}
	return nil
}
