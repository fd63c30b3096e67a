package server

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/protocol"
)

// Frames are built here, beside the writers that send them, so that
// package protocol needs no WebSocket library. A frame is encoded once per
// message and the same bytes are queued for every recipient, so nothing may
// retain or modify a frame after it is built.

// textFrame encodes p as one unmasked, final text frame, as a server sends
// it. The result is sized exactly, to be shared by all recipients of a
// message.
func textFrame(p []byte) []byte {
	h := ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(p))}
	buf := bytes.NewBuffer(make([]byte, 0, ws.HeaderSize(h)+len(p)))
	if err := ws.WriteHeader(buf, h); err != nil {
		// Only a length beyond 2^63 fails, which no caller can produce.
		panic(err)
	}
	buf.Write(p)
	return buf.Bytes()
}

// jsonFrame encodes v, one of protocol's events, as a text frame. The JSON
// is built in a pooled buffer and copied once into the exactly sized frame.
func jsonFrame(v any) []byte {
	bp := encodeBuffers.Get().(*[]byte)
	p := protocol.AppendJSON((*bp)[:0], v)
	frame := textFrame(p)
	// A buffer a large message grew goes back to the garbage collector, so
	// that one large message does not pin it.
	if cap(p) <= 64<<10 {
		*bp = p
		encodeBuffers.Put(bp)
	}
	return frame
}

var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// closeFrame encodes a close frame with code and a human-readable reason.
// Reasons longer than a control frame allows are cut.
func closeFrame(code protocol.CloseCode, reason string) []byte {
	return ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), reason)))
}

// parseClose reads the body of a close frame from a peer: its code, which
// is CloseNormal for an empty body, or an error for a code or reason that
// RFC 6455 forbids, to be answered with CloseProtocolError rather than
// echoed. ws.CheckCloseFrameData leaves out codes above 4999, which no
// range of the RFC defines.
func parseClose(p []byte) (protocol.CloseCode, error) {
	if len(p) == 0 {
		return protocol.CloseNormal, nil
	}
	code, reason := ws.ParseCloseFrameData(p)
	if err := ws.CheckCloseFrameData(code, reason); err != nil {
		return protocol.CloseCode(code), fmt.Errorf("close code %d: %w", code, err)
	}
	if code > maxCloseCode {
		return protocol.CloseCode(code), fmt.Errorf("close code %d: %w", code, errCloseCodeRange)
	}
	return protocol.CloseCode(code), nil
}

// maxCloseCode is the highest code of RFC 6455's private range.
const maxCloseCode = 4999

var errCloseCodeRange = errors.New("outside 1000-4999")

// pongFrame answers a ping carrying payload.
func pongFrame(payload []byte) []byte {
	return ws.MustCompileFrame(ws.NewPongFrame(payload))
}

// pingFrame is the keepalive ping chatd sends; it is immutable and shared.
var pingFrame = ws.MustCompileFrame(ws.NewPingFrame(nil))
