package server

import (
	"context"
	"time"
)

// storeTimeout bounds one store call made for a client: a request's reads
// and writes, or the wait for a posted message to be stored.
const storeTimeout = 10 * time.Second

// storeContext bounds one store call made for c. It ends after
// storeTimeout, or as soon as the connection ends, so that a reader whose
// connection was dropped (by a shutdown that stopped waiting, a failed
// write, an eviction) is not left waiting on the store.
func (c *conn) storeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, storeTimeout)
}
