package bench

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// TestStampReaderReadsWhatTheHandshakeReadAheadFirst: the bytes a
// handshake buffered past its response come before the connection's, once.
func TestStampReaderReadsWhatTheHandshakeReadAheadFirst(t *testing.T) {
	ahead := bufio.NewReaderSize(strings.NewReader("first frames|"), 16)
	if _, err := ahead.Peek(len("first frames|")); err != nil {
		t.Fatal(err)
	}
	sr := &stampReader{r: strings.NewReader("the connection's"), ahead: ahead}
	br := bufio.NewReaderSize(sr, 16) // reads of 16 bytes at most
	got, err := io.ReadAll(br)
	if err != nil || string(got) != "first frames|the connection's" {
		t.Fatalf("read %q, %v", got, err)
	}
	if sr.at == 0 {
		t.Error("no read was stamped")
	}
}
