package server

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/protocol"
)

// readLoop is the connection's reader. It holds no buffer while the client
// is idle: headers are read into a small array and each message into a
// slice that grows as its bytes arrive. It runs on a goroutine of its own,
// first with the bytes that came in behind the handshake (early), and
// parks when the client is idle (conn_park.go): that goroutine ends, and
// wake runs readLoop again, resumed, on a new one, which keeps the read
// deadline set before parking.
func (c *conn) readLoop(early []byte, resumed bool) {
	var err error
	parked := false
	r := &frameReader{src: c.out.nc, early: early}
	defer func() {
		if parked {
			return
		}
		r.release()
		c.cleanup(err)
	}()

	var hbuf [ws.MaxHeaderSize - 2]byte
	// ctrl is made at the first control frame: it escapes to the heap, and
	// a connection that is never pinged need not hold it.
	var ctrl *[ws.MaxControlFramePayloadSize]byte
	var msg []byte // the message being assembled from fragments
	limit := int64(c.srv.cfg.MaxMessageBytes)
	// last is when the reader last reached a frame boundary: it parks only
	// when the frame it just read came at least parkGap after the one
	// before, so that a client sending one message after another keeps
	// its goroutine rather than parking and waking for each.
	var last time.Time
	if resumed {
		last = time.Unix(0, c.readBy.Load()).Add(-c.srv.cfg.IdleTimeout)
	}
	for {
		r.idle()
		if !resumed && !c.out.closing.Load() {
			now := time.Now()
			readBy := now.Add(c.srv.cfg.IdleTimeout)
			if err = c.out.nc.SetReadDeadline(readBy); err != nil {
				return
			}
			if msg == nil && r.empty() && now.Sub(last) >= c.srv.parkGap && c.park(readBy) {
				parked = true
				return
			}
			last = now
		}
		resumed = false
		var h ws.Header
		if h, err = ws.ReadHeaderBuffer(r.header(), hbuf[:]); err != nil {
			if errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected) {
				c.fail(r, protocol.CloseProtocolError, err.Error())
			}
			return
		}
		state := ws.StateServerSide
		if msg != nil {
			state = state.Set(ws.StateFragmented)
		}
		if err = ws.CheckHeader(h, state); err != nil {
			c.fail(r, protocol.CloseProtocolError, err.Error())
			return
		}

		if h.OpCode.IsControl() {
			if ctrl == nil {
				ctrl = new([ws.MaxControlFramePayloadSize]byte)
			}
			p := ctrl[:h.Length]
			if _, err = io.ReadFull(r, p); err != nil {
				return
			}
			ws.Cipher(p, h.Mask, 0)
			if done := c.control(r, h.OpCode, p); done {
				return
			}
			continue
		}
		if h.OpCode == ws.OpBinary {
			c.fail(r, protocol.CloseUnsupportedData, "binary messages are not supported; send text")
			return
		}
		if int64(len(msg))+h.Length > limit {
			c.fail(r, protocol.CloseMessageTooBig, fmt.Sprintf("message larger than %d bytes", limit))
			return
		}
		n := len(msg)
		if msg, err = readPayload(r, msg, int(h.Length)); err != nil {
			return
		}
		ws.Cipher(msg[n:], h.Mask, 0)
		if !h.Fin {
			if msg == nil {
				msg = []byte{} // an empty first fragment still opens a message
			}
			continue
		}
		if !utf8.Valid(msg) {
			c.fail(r, protocol.CloseInvalidPayload, "text message is not valid UTF-8")
			return
		}
		if !c.out.closing.Load() {
			c.handleText(msg)
		}
		msg = nil
	}
}

// readPayload appends n bytes read from r to msg. It grows msg as the bytes
// arrive, a step at a time, rather than by the n the header declared: a
// client that declares a large frame and sends a few bytes of it makes the
// server hold a step, not the frame.
func readPayload(r io.Reader, msg []byte, n int) ([]byte, error) {
	for n > 0 {
		step := min(n, max(payloadStep, cap(msg)-len(msg)))
		start := len(msg)
		msg = slices.Grow(msg, step)[:start+step]
		if _, err := io.ReadFull(r, msg[start:]); err != nil {
			return msg, err
		}
		n -= step
	}
	return msg, nil
}

// payloadStep is the most a payload grows by before its bytes have
// arrived; slices.Grow's doubling makes the steps of a large message few.
const payloadStep = readBufferSize

// control handles a ping, pong or close frame. It reports whether the
// connection is finished.
func (c *conn) control(r io.Reader, op ws.OpCode, p []byte) (done bool) {
	switch op {
	case ws.OpPing:
		c.send(pongFrame(p))
	case ws.OpClose:
		if c.out.closing.Load() {
			return true // the client answered our close frame
		}
		code, err := parseClose(p)
		if err != nil {
			c.fail(r, protocol.CloseProtocolError, err.Error())
			return true
		}
		if len(p) > 0 && code == protocol.CloseNormal {
			// A goodbye: the client is done with its rooms and its name,
			// which are free before it reads the echo, so that it can
			// come straight back under the same name.
			c.leaveAll()
			c.srv.sessions.release(c.sess, c, true)
		}
		// Echo the code; the socket closes once the echo is written.
		c.out.peerClosed.Store(true)
		c.closeWith(closeFrame(code, ""), false)
	}
	return false
}

// fail closes the connection with code and reason after the frames already
// queued, then discards input until the client hangs up or closeGrace passes.
func (c *conn) fail(r io.Reader, code protocol.CloseCode, reason string) {
	c.closeWith(closeFrame(code, reason), false)
	_ = c.out.nc.SetReadDeadline(time.Now().Add(closeGrace))
	_, _ = io.Copy(io.Discard, r)
}

func (c *conn) cleanup(err error) {
	if c.srv.poll != nil {
		c.srv.poll.forget(c)
	}
	c.leaveAll()
	c.out.abort()
	c.stopExpiry()
	c.srv.sessions.release(c.sess, c, false)
	c.srv.unregister(c)
	reason := closeReason(c, err)
	if c.out.evicted.Load() {
		c.srv.log.Warn("slow consumer evicted", "id", c.id, "name", c.sess.name)
	}
	c.srv.log.Debug("connection closed", "id", c.id, "name", c.sess.name,
		"duration", time.Since(time.Unix(0, c.opened)).Round(time.Millisecond), "reason", reason)
}

// leaveAll takes c out of its rooms.
func (c *conn) leaveAll() {
	// An owner's remove may be taking c out of a room at this moment.
	c.handling.Lock()
	defer c.handling.Unlock()
	// Last first: leave removes the room from c.rooms.
	for i := len(c.rooms) - 1; i >= 0; i-- {
		c.leave(c.rooms[i])
	}
}

// closeReason describes why a connection ended, for the close log.
func closeReason(c *conn, err error) string {
	switch {
	case c.out.evicted.Load():
		return "slow consumer"
	case c.out.peerClosed.Load(), err == nil, errors.Is(err, io.EOF):
		return "closed by client"
	default:
		return err.Error()
	}
}
