package server

import (
	"context"
	"errors"
	"time"

	"github.com/chatd/chatd/hub"
)

// handlePlain publishes a plain client's text to its room. A plain client
// cannot be told "rate limited", so it is slowed down instead: the reader
// waits for the limiter, and TCP pushes back on the client.
func (c *conn) handlePlain(text []byte) {
	a := c.sendLimits()
	if a.limiter != nil {
		if d := a.limiter.Reserve().Delay(); d > 0 {
			time.Sleep(d)
		}
	}
	if a.byteLimiter != nil {
		if d := a.byteLimiter.ReserveN(time.Now(), c.messageCost(c.plainRoom(), string(text), "")).Delay(); d > 0 {
			time.Sleep(d)
		}
	}
	// A plain client cannot be told to come back later, so its message
	// waits for a journal that is behind, up to backlogWait. The context it
	// waits with is made only then: one made for every message is a timer
	// and an entry in the server's base context, whose lock every sender's
	// message then takes in turn.
	var ctx context.Context
	for {
		if c.srv.hub.Backlogged(c.plainRoom()) {
			if ctx == nil {
				var cancel context.CancelFunc
				ctx, cancel = c.calls.context(c.srv.base, backlogWait)
				defer cancel()
			}
			if err := c.srv.hub.WaitBacklog(ctx, c.plainRoom()); err != nil {
				c.closeWith(closeStoreBehind, false)
				return
			}
		}
		if !errors.Is(c.publishPlain(text), hub.ErrBacklogged) {
			return
		}
	}
}

// publishPlain publishes a plain client's text to its room; it returns
// hub.ErrBacklogged if the room's journal filled up again since the wait.
func (c *conn) publishPlain(text []byte) error {
	c.handling.Lock()
	defer c.handling.Unlock()
	for _, room := range c.rooms {
		ms := c.plainMentions(room, text)
		e := &hub.Event{Kind: hub.KindMessage, Room: room, From: c.sess.name, Text: text, Mentions: keptKeys(ms)}
		e.Done = func(p hub.Published, err error) {
			if err != nil {
				// A plain client cannot be told. The message took no
				// sequence number, so the room's order has no hole.
				c.srv.log.Warn("store message", "room", room, "err", err)
				return
			}
			c.srv.countMessage(p)
			if !p.Duplicate && len(ms) > 0 {
				c.srv.notifyMentions(e, p, ms)
			}
		}
		p, err := c.publish(e)
		if errors.Is(err, hub.ErrBacklogged) {
			return err
		}
		if err == nil && !p.Pending && len(ms) > 0 {
			c.srv.notifyMentions(e, p, ms)
		}
	}
	return nil
}

// backlogWait is how long a plain client's message waits for a journal
// that is behind before the client is told to come back later.
const backlogWait = 5 * time.Second
