package bench

import (
	"bufio"
	"io"
	"time"
)

// stampReader records when its last Read returned data. Under a
// bufio.Reader, every frame that ends in a buffer's fill was in the socket
// by the time of that read, so that time stands for the frame's arrival.
// Reading the clock per read instead of per frame matters when one read
// brings in dozens of frames.
type stampReader struct {
	r io.Reader
	// ahead holds what the handshake read past its response (a JSON
	// server's first events), read before r and dropped once empty: left
	// in front of r as an io.MultiReader, it put two more calls in every
	// read of a JSON connection for its whole life.
	ahead *bufio.Reader
	at    int64 // Unix ns; owned by the connection's reader goroutine
}

func (s *stampReader) Read(p []byte) (n int, err error) {
	if s.ahead != nil && s.ahead.Buffered() > 0 {
		n, err = s.ahead.Read(p) // from its buffer only
	} else {
		s.ahead = nil
		n, err = s.r.Read(p)
	}
	if n > 0 {
		s.at = time.Now().UnixNano()
	}
	return n, err
}
