package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/store"
)

// hangingReads is a store whose history reads wait until their context
// ends, as a database that stopped answering would, and report how each
// ended.
type hangingReads struct {
	store.Store
	entered chan struct{} // closed once a read is waiting
	once    sync.Once
	ended   chan error
}

func (s *hangingReads) Before(ctx context.Context, room string, before uint64, limit int) ([]store.Message, error) {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	s.ended <- ctx.Err()
	return nil, ctx.Err()
}

// A shutdown that stops waiting for a connection also ends the store call
// its reader is waiting on, instead of leaving it to its own timeout.
func TestAShutdownThatGivesUpCancelsTheStoreCallsOfItsConnections(t *testing.T) {
	st := &hangingReads{
		Store:   servertest.SQLite(t),
		entered: make(chan struct{}), ended: make(chan error, 1),
	}
	ts := servertest.Start(t, server.Config{Store: st})
	a := dialJSON(t, ts, "name=a")
	a.send(`{"type":"history","id":"h","room":"r"}`)
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the history read never started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time to wait: connections are dropped at once
	if err := ts.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown with an ended context reported no error")
	}
	select {
	case err := <-st.ended:
		if err != context.Canceled {
			t.Fatalf("the history read ended with %v, want it cancelled", err)
		}
	default:
		t.Fatal("Shutdown returned while the history read still waited")
	}
}

// A connection dropped because a write to it failed ends the store call
// its reader is waiting on, instead of leaving it to its own timeout.
func TestADroppedConnectionCancelsItsStoreCall(t *testing.T) {
	st := &hangingReads{
		Store:   servertest.SQLite(t),
		entered: make(chan struct{}), ended: make(chan error, 1),
	}
	ts := servertest.Start(t, server.Config{Store: st})
	a := dialJSON(t, ts, "name=a&room=r&history=0")
	b := dialMany(t, ts, 1, "name=b&room=r")[0]
	a.send(`{"type":"history","id":"h","room":"r"}`)
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the history read never started")
	}
	// a hangs up without a close frame; the server learns of it when a
	// write of b's messages to a fails.
	a.ws.CloseNow()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		select {
		case err := <-st.ended:
			if err != context.Canceled {
				t.Fatalf("the history read ended with %v, want it cancelled when the connection was dropped", err)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the history read still waits for a dropped connection")
		}
		b.send(fmt.Sprintf("message %d", i))
	}
}

// hangingFinds is a store whose look-ups of a client_msg_id wait until
// their context ends, and report how each ended.
type hangingFinds struct {
	store.Store
	entered chan struct{} // closed once a look-up is waiting
	once    sync.Once
	ended   chan error
}

func (s *hangingFinds) FindClientMsg(ctx context.Context, room, from, id string) (store.Message, bool, error) {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	s.ended <- ctx.Err()
	return store.Message{}, false, ctx.Err()
}

// A send with a client_msg_id is the one message that reads the store
// before it is published, and so the one that makes a context: the read
// still ends when its connection is dropped.
func TestADroppedConnectionCancelsTheLookUpOfItsSendsClientMsgID(t *testing.T) {
	st := &hangingFinds{
		Store:   servertest.SQLite(t),
		entered: make(chan struct{}), ended: make(chan error, 1),
	}
	ts := servertest.Start(t, server.Config{Store: st})
	a := dialJSON(t, ts, "name=a&room=r&history=0")
	b := dialMany(t, ts, 1, "name=b&room=r")[0]
	a.send(`{"type":"send","id":"s","room":"r","text":"hello","client_msg_id":"m1"}`)
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the look-up of the client_msg_id never started")
	}
	a.ws.CloseNow()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		select {
		case err := <-st.ended:
			if err != context.Canceled {
				t.Fatalf("the look-up ended with %v, want it cancelled when the connection was dropped", err)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the look-up still waits for a dropped connection")
		}
		b.send(fmt.Sprintf("message %d", i))
	}
}
