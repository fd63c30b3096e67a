package server

import (
	"testing"
	"unsafe"
)

// TestAConnIsSmall keeps conn within the 320-byte size class: every idle
// connection pays for each byte of it, twice over in RSS with the garbage
// collector's headroom, and a field placed where alignment pads it can
// push conn into the next class (352 bytes) unnoticed.
func TestAConnIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 320 {
		t.Errorf("conn is %d bytes, more than 320: move what idle connections do not need behind a pointer (connActive, signedIdentity), or fields into padding", n)
	}
}
