package server

import (
	"time"

	"github.com/chatd/chatd/hub"
)

// handlePlain publishes a plain client's text to its room. A plain client
// cannot be told "rate limited", so it is slowed down instead: the reader
// waits for the limiter, and TCP pushes back on the client.
func (c *conn) handlePlain(text []byte) {
	if c.limiter != nil {
		if d := c.limiter.Reserve().Delay(); d > 0 {
			time.Sleep(d)
		}
	}
	if c.byteLimiter != nil {
		if d := c.byteLimiter.ReserveN(time.Now(), c.messageCost(c.plainRoom, string(text), "")).Delay(); d > 0 {
			time.Sleep(d)
		}
	}
	if !c.srv.waitBacklog(c.plainRoom) {
		c.closeWith(closeStoreBehind, false)
		return
	}
	c.handling.Lock()
	defer c.handling.Unlock()
	for room := range c.rooms {
		_, _ = c.publish(&hub.Event{Kind: hub.KindMessage, Room: room, From: c.sess.name, Text: text,
			Done: func(p hub.Published, err error) {
				if err != nil {
					// A plain client cannot be told. The message took no
					// sequence number, so the room's order has no hole.
					c.srv.log.Warn("store message", "room", room, "err", err)
					return
				}
				c.srv.countMessage(p)
			}})
	}
}

// backlogWait is how long a plain client's message waits for a journal
// that is behind before the client is told to come back later.
const backlogWait = 5 * time.Second

// waitBacklog waits, polling, until room's journal is no longer behind;
// false if it still is after backlogWait or the server is stopping.
func (s *Server) waitBacklog(room string) bool {
	deadline := time.Now().Add(backlogWait)
	for s.hub.Backlogged(room) {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-s.stop:
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}
