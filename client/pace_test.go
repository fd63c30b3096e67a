package client_test

import (
	"sync"
	"testing"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/servertest"
	"github.com/chatd/chatd/server"
)

// A client paces its sends to the limits of its welcome: a burst of sends
// from many goroutines is never refused for its rate.
func TestSendsArePacedToTheAnnouncedLimits(t *testing.T) {
	ts := servertest.Start(t, server.Config{SendRate: 50, SendBurst: 5})
	a := servertest.Dial(t, ts.URL(), client.Options{Rooms: []string{"r"}})
	if l := a.Limits(); l.SendRate != 50 || l.SendBurst != 5 {
		t.Fatalf("limits %+v", l)
	}
	const sends = 30
	var wg sync.WaitGroup
	errs := make(chan error, sends)
	for range sends {
		wg.Go(func() {
			if _, err := a.Send(servertest.Context(t), "r", "m"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := ts.Stats().RequestErrors["rate_limited"]; n != 0 {
		t.Fatalf("the server refused %d sends as rate_limited; the client did not pace itself", n)
	}
}
