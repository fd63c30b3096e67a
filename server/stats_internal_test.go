package server

import (
	"testing"

	"github.com/chatd/chatd/protocol"
)

// The request error counters are a fixed array indexed like
// protocol.ErrorCodes, so a new error code needs room there, or counting it
// would panic.
func TestEveryErrorCodeHasACounter(t *testing.T) {
	var c counters
	if len(protocol.ErrorCodes) > len(c.requestErrors) {
		t.Fatalf("%d error codes, %d counters", len(protocol.ErrorCodes), len(c.requestErrors))
	}
	for _, code := range protocol.ErrorCodes {
		c.requestError(code)
	}
	for i, code := range protocol.ErrorCodes {
		if got := c.requestErrors[i].Load(); got != 1 {
			t.Errorf("%s counted %d times, want 1", code, got)
		}
	}
}
