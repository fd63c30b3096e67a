package bench

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// bufferedFrame handles the next frame where it lies in the read buffer
// when it is a whole, unmasked data frame that fits there: the header is
// read from the buffer and the payload handed over without a copy. For any
// other frame (fragmented, control, masked, reserved bits, larger than the
// buffer or than limit) it consumes nothing and reports false, and
// readFrames reads that frame the long way, which checks it.
//
// In window mode nearly every frame takes this path. The long way costs two
// reads from the buffer for a header of four bytes, the length of every
// JSON message event, and a copy of every payload.
func (c *client) bufferedFrame(limit int64) (bool, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return false, err
	}
	if (b[0] != 0x80|byte(ws.OpText) && b[0] != 0x80|byte(ws.OpBinary)) || b[1]&0x80 != 0 {
		return false, nil
	}
	hs, n := 2, int(b[1]&0x7f)
	switch n {
	case 126:
		hs = 4
		if b, err = c.br.Peek(hs); err != nil {
			return false, err
		}
		n = int(binary.BigEndian.Uint16(b[2:]))
	case 127:
		return false, nil // 64 KiB or more: larger than the buffer
	}
	if hs+n > c.br.Size() || int64(n) > limit {
		return false, nil
	}
	if b, err = c.br.Peek(hs + n); err != nil {
		return false, err
	}
	c.handle(b[hs:], c.stamp.at)
	_, _ = c.br.Discard(hs + n) // Peek has buffered them
	return true, nil
}
