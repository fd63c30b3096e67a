package server_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store/sqlite"
)

// unreadableStore is a real SQLite store that cannot tell where a room
// ends while fail is set, as when its disk has gone bad.
type unreadableStore struct {
	*sqlite.Store
	fail atomic.Bool
}

func (s *unreadableStore) LastSeq(ctx context.Context, room string) (uint64, error) {
	if s.fail.Load() {
		return 0, errors.New("disk unreadable")
	}
	return s.Store.LastSeq(ctx, room)
}

func TestAClientRefusedAfterItsHandshakeLeavesItsSlotAddressAndNameFree(t *testing.T) {
	st := &unreadableStore{Store: servertest.SQLite(t)}
	ts := servertest.Start(t, server.Config{Store: st, MaxConns: 1, IPConns: 1})
	st.fail.Store(true)
	refused := dial(t, ts, "room=go&name=ann")
	refused.expectClose(websocket.StatusInternalError, "history store")
	st.fail.Store(false)

	// Everything the refused connection held is free by the time it read
	// its close frame: the only slot, its address's only connection, and
	// its name.
	ann := dial(t, ts, "room=go&name=ann")
	servertest.WaitFor(t, "ann registered", func() bool { return ts.Stats().Conns == 1 })
	ann.send("hello")
	servertest.WaitFor(t, "ann's message stored", func() bool { return len(storedSeqs(t, st, "go")) == 1 })
}
