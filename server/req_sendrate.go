package server

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/chatd/chatd/protocol"
)

// A sender pays for what its messages cost their recipients. Counting
// messages alone lets one client fill another's queue with a dozen large
// ones in a moment, and the slow-consumer rule would then close the
// recipient, who did nothing wrong. So each message and direct message
// also takes its size, as its recipients receive it, from the sender's
// byte bucket (SendByteRate, bursts of SendByteBurst): a burst within it is
// what a reading recipient drains in time, and beyond it the sender waits.

// allowSend applies the connection's send limits to a message whose frame
// costs each recipient cost bytes. A refusal takes nothing from either
// limit.
func (c *conn) allowSend(cost int) *protocol.Error {
	a := c.sendLimits()
	now := time.Now()
	var res *rate.Reservation
	if a.byteLimiter != nil {
		res = a.byteLimiter.ReserveN(now, min(cost, a.byteLimiter.Burst()))
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			return &protocol.Error{Code: protocol.CodeRateLimited, RetryAfterMS: ceilMillis(d), Message: fmt.Sprintf(
				"sending more than %.0f bytes of messages per second; send it again after retry_after_ms", float64(a.byteLimiter.Limit()))}
		}
	}
	if a.limiter != nil {
		r := a.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			if res != nil {
				res.CancelAt(now)
			}
			return &protocol.Error{Code: protocol.CodeRateLimited, RetryAfterMS: ceilMillis(d), Message: fmt.Sprintf(
				"sending faster than %g messages per second; send it again after retry_after_ms", float64(a.limiter.Limit()))}
		}
	}
	return nil
}

// sendLimits makes the connection's send limits at its first message
// rather than at connect: an idle connection then holds none (about 80
// bytes each). A limiter starts full, so one made late allows what one
// made at connect would have by then. Only the reader calls it; it
// returns the reader's state that holds them.
func (c *conn) sendLimits() *connActive {
	cfg := &c.srv.cfg
	a := c.act()
	if a.limiter == nil && cfg.SendRate > 0 {
		a.limiter = rate.NewLimiter(rate.Limit(cfg.SendRate), cfg.SendBurst)
	}
	if a.byteLimiter == nil && cfg.SendByteRate > 0 {
		a.byteLimiter = rate.NewLimiter(rate.Limit(cfg.SendByteRate), cfg.SendByteBurst)
	}
	return a
}

// messageCost is the size of the frame that carries text from c to room's
// JSON members, the costliest format, without encoding it.
func (c *conn) messageCost(room, text, clientMsgID string) int {
	return protocol.MessageSize(&protocol.Message{Type: protocol.TypeMessage, Room: room, Seq: 1 << 40,
		From: c.sess.name, TS: protocol.Millis(time.Now()), Text: text, ClientMsgID: clientMsgID})
}

func ceilMillis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
