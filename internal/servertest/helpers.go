package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
)

// Wait is how long the helpers below wait for what a test expects.
const Wait = 5 * time.Second

// Context returns a context for a test's calls that ends after twice Wait,
// or when the test ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*Wait)
	tb.Cleanup(cancel)
	return ctx
}

// WaitFor polls cond until it holds, failing the test if it does not
// within Wait; what names the condition in the failure.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Dial connects a client.Client to url, and closes it when the test ends.
func Dial(tb testing.TB, url string, opts client.Options) *client.Client {
	tb.Helper()
	c, err := client.Dial(Context(tb), url, opts)
	if err != nil {
		tb.Fatalf("dial %s as %q: %v", url, opts.Name, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Next returns c's next event of type E, skipping the others (presence and
// typing come and go with other clients). It fails the test if none comes
// within Wait, or if c's events end.
func Next[E client.Event](tb testing.TB, c *client.Client) E {
	tb.Helper()
	timeout := time.After(Wait)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				tb.Fatalf("events ended: %v", c.Err())
			}
			if e, ok := ev.(E); ok {
				return e
			}
		case <-timeout:
			var zero E
			tb.Fatalf("no %T within %v", zero, Wait)
		}
	}
}
