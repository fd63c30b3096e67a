package server

import (
	"context"
	"time"
)

// retain applies the retention limits every RetentionInterval until the
// server stops. The store deletes in bounded chunks, so appends go on
// meanwhile; a failed pass is logged and tried again next time.
func (s *Server) retain() {
	t := time.NewTicker(s.cfg.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RetentionInterval)
		n, err := s.cfg.Store.Trim(ctx, time.Now(), s.cfg.RetentionAge, s.cfg.RetentionMessages)
		cancel()
		switch {
		case err != nil:
			s.log.Warn("apply retention", "err", err)
		case n > 0:
			s.log.Debug("retention deleted messages", "count", n)
		}
	}
}

// tokenSweepInterval is how often expired login tokens are deleted; tests
// shorten it.
var tokenSweepInterval = time.Hour

// sweepTokens deletes expired login tokens every interval until the
// server stops. Expired tokens are refused whether or not they are
// still stored; deleting them only keeps the table from growing.
func (s *Server) sweepTokens(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := s.cfg.Accounts.DeleteExpiredTokens(ctx, time.Now())
		cancel()
		switch {
		case err != nil:
			s.log.Warn("delete expired tokens", "err", err)
		case n > 0:
			s.log.Debug("deleted expired tokens", "count", n)
		}
	}
}
