package server

import (
	"context"
	"time"
)

// retain applies the retention limits every RetentionInterval until the
// server stops. The store deletes in bounded chunks, so appends go on
// meanwhile.
func (s *Server) retain() {
	s.periodically(s.cfg.RetentionInterval, s.cfg.RetentionInterval, "apply retention", "retention deleted messages",
		func(ctx context.Context) (int64, error) {
			return s.cfg.Store.Trim(ctx, time.Now(), s.cfg.RetentionAge, s.cfg.RetentionMessages)
		})
}

// tokenSweepInterval is how often expired login tokens are deleted; tests
// shorten it.
var tokenSweepInterval = time.Hour

// sweepTokens deletes expired login tokens every interval until the
// server stops. Expired tokens are refused whether or not they are
// still stored; deleting them only keeps the table from growing.
func (s *Server) sweepTokens(every time.Duration) {
	s.periodically(every, time.Minute, "delete expired tokens", "deleted expired tokens",
		func(ctx context.Context) (int64, error) {
			return s.cfg.Accounts.DeleteExpiredTokens(ctx, time.Now())
		})
}

// periodically runs task every interval, each run bounded by timeout, until
// the server stops. A failed run is logged as failed and tried again at the
// next tick; a run that deleted something is logged at debug level as done.
func (s *Server) periodically(every, timeout time.Duration, failed, done string, task func(context.Context) (int64, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		n, err := task(ctx)
		cancel()
		switch {
		case err != nil:
			s.log.Warn(failed, "err", err)
		case n > 0:
			s.log.Debug(done, "count", n)
		}
	}
}
