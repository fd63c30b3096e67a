package protocol

import (
	"bytes"

	"github.com/gobwas/ws"
)

// TextFrame encodes p as one unmasked, final text frame, as a server sends it.
// The result is sized exactly, to be shared by all recipients of a message.
func TextFrame(p []byte) []byte {
	h := ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(p))}
	buf := bytes.NewBuffer(make([]byte, 0, ws.HeaderSize(h)+len(p)))
	if err := ws.WriteHeader(buf, h); err != nil {
		// Only a length beyond 2^63 fails, which no caller can produce.
		panic(err)
	}
	buf.Write(p)
	return buf.Bytes()
}

// PongFrame answers a ping carrying payload.
func PongFrame(payload []byte) []byte {
	return ws.MustCompileFrame(ws.NewPongFrame(payload))
}

// PingFrame is the keepalive ping chatd sends; it is immutable and shared.
var PingFrame = ws.MustCompileFrame(ws.NewPingFrame(nil))
