package bench

import (
	"io"
	"time"
)

// stampReader records when its last Read returned data. Under a
// bufio.Reader, every frame that ends in a buffer's fill was in the socket
// by the time of that read, so that time stands for the frame's arrival.
// Reading the clock per read instead of per frame matters when one read
// brings in dozens of frames.
type stampReader struct {
	r  io.Reader
	at int64 // Unix ns; owned by the connection's reader goroutine
}

func (s *stampReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.at = time.Now().UnixNano()
	}
	return n, err
}
