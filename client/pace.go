package client

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/chatd/chatd/protocol"
)

// pacer holds a connection's sends to the limits its welcome announced: a
// token bucket of send_rate messages per second holding send_burst, and one
// of send_byte_rate bytes holding send_byte_burst. A client that waits for
// them is not refused for its rate; the server's rate_limited, with its
// retry_after_ms, remains the authority when the two disagree (clocks, or
// another connection of the same program). The buckets start full, like
// the server's for a new connection, but hold a little less than the
// server's: requests spaced exactly by the rate may reach the server closer
// together than they left, and the margin absorbs that jitter.
type pacer struct {
	msgs  *rate.Limiter // nil: no message rate
	bytes *rate.Limiter // nil: no byte rate
}

func newPacer(l protocol.Limits) *pacer {
	p := &pacer{}
	if l.SendRate > 0 {
		p.msgs = rate.NewLimiter(rate.Limit(l.SendRate), max(l.SendBurst-1, 1))
	}
	if l.SendByteRate > 0 {
		p.bytes = rate.NewLimiter(rate.Limit(l.SendByteRate), max(l.SendByteBurst*9/10, 1))
	}
	return p
}

// wait waits until a message that costs its recipients cost bytes may be
// sent, or ctx ends.
func (p *pacer) wait(ctx context.Context, cost int) error {
	if p == nil {
		return nil
	}
	if p.msgs != nil {
		if err := p.msgs.Wait(ctx); err != nil {
			return err
		}
	}
	if p.bytes != nil {
		// The server charges at most its burst for one message.
		if err := p.bytes.WaitN(ctx, min(cost, p.bytes.Burst())); err != nil {
			return err
		}
	}
	return nil
}

// cost estimates what the server charges req to the byte rate: the size of
// the event its recipients receive.
func cost(req protocol.Request, from string) int {
	text := ""
	if req.Text != nil {
		text = *req.Text
	}
	return protocol.MessageSize(&protocol.Message{Type: protocol.TypeMessage, Room: req.Room + req.To, Seq: 1 << 40,
		From: from, TS: protocol.Millis(time.Now()), Text: text, ClientMsgID: req.ClientMsgID})
}
