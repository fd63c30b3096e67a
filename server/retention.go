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
