package server

import (
	"bufio"
	"io"
	"sync"
)

// readBufferSize is the buffer a connection borrows while it has data to
// read: enough for a burst of chat messages in one system call.
const readBufferSize = 4 << 10

var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// frameReader reads a connection through a pooled buffer that it holds only
// while data is buffered. A frame header is read straight from the socket
// when nothing is buffered, so an idle connection holds no buffer (and its
// goroutine blocks with no extra call frame); payloads, and the frames a
// client sent behind them, come in through the buffer, one system call for
// many frames. It is used by the connection's reader goroutine only.
type frameReader struct {
	src   io.Reader
	early []byte        // what came in behind the handshake, read first
	buf   *bufio.Reader // nil while idle
}

// header is where the next frame header is read from.
func (r *frameReader) header() io.Reader {
	switch {
	case r.buf != nil:
		return r.buf
	case len(r.early) > 0:
		return r
	}
	return r.src
}

// empty reports whether nothing read from the socket waits in r.
func (r *frameReader) empty() bool { return r.buf == nil && len(r.early) == 0 }

// Read reads a payload, borrowing the buffer for reads smaller than it. A
// read at least as large as the buffer, with nothing buffered, goes
// straight to the socket (as bufio would do) without holding the buffer,
// so that a client that stops in the middle of a large frame pins no
// buffer while its reader waits.
func (r *frameReader) Read(p []byte) (int, error) {
	if len(r.early) > 0 {
		n := copy(p, r.early)
		r.early = r.early[n:]
		return n, nil
	}
	r.idle()
	if r.buf == nil && len(p) >= readBufferSize {
		return r.src.Read(p)
	}
	if r.buf == nil {
		r.buf = readBuffers.Get().(*bufio.Reader)
		r.buf.Reset(r.src)
	}
	return r.buf.Read(p)
}

// idle gives the buffer back when nothing is left in it; call it between
// frames.
func (r *frameReader) idle() {
	if r.buf != nil && r.buf.Buffered() == 0 {
		r.release()
	}
}

// release gives the buffer back, dropping what it holds; call it when the
// connection ends.
func (r *frameReader) release() {
	if r.buf != nil {
		r.buf.Reset(nil)
		readBuffers.Put(r.buf)
		r.buf = nil
	}
}
