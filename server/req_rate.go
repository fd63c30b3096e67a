package server

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/chatd/chatd/protocol"
)

// requestClass groups the requests that share one rate bucket on a
// connection. Sends and direct messages have their own limit (SendRate).
type requestClass int

const (
	classOther   requestClass = iota // typing, read, leave, auth
	classJoin                        // join, with its replay
	classHistory                     // history pages
	classRooms                       // rooms pages
	classRoster                      // who, members
	classManage                      // create, invite, remove: store writes
	classSearch                      // searches: index reads
	numClasses
	// classSends is sends and direct messages, which SendRate and
	// SendByteRate pace instead.
	classSends = numClasses
)

// requestLimit is one class's sustained rate and burst per connection, in
// tokens. The bursts let the browser client and cmd/chat rejoin every room
// a connection may be in (MaxRooms) after a reconnect, with their rosters
// and read marks, without waiting; the rates keep a client that repeats
// requests in a loop to a small share of a core.
type requestLimit struct {
	what  string // for the error message
	rate  float64
	burst func(cfg *Config) int
}

var requestLimits = [numClasses]requestLimit{
	classOther:   {"typing, read, leave and auth requests", 20, func(c *Config) int { return max(200, 2*c.MaxRooms) }},
	classJoin:    {"joins", 10, func(c *Config) int { return max(100, c.MaxRooms) }},
	classHistory: {"history (a token per 100 messages of a page)", 10, func(*Config) int { return 50 }},
	classRooms:   {"rooms requests", 1, func(*Config) int { return 10 }},
	classRoster:  {"who and members requests", 5, func(c *Config) int { return max(100, c.MaxRooms) }},
	classManage:  {"create, invite and remove requests", 1, func(*Config) int { return 10 }},
	// A search reads the index, and a best-first one sorts every match:
	// far more work than a history page.
	classSearch: {"searches", 2, func(*Config) int { return 10 }},
}

// historyPage is the number of messages a history or replay token pays
// for: a page of 1000 costs ten times a page of 100.
const historyPage = 100

// joinCost is a join's cost in tokens: one, and one per historyPage
// messages of replay asked for.
func (c *conn) joinCost(r *protocol.Request) int {
	want := c.srv.cfg.JoinHistory
	switch {
	case r.Since != nil:
		want = 0 // recovery: what was missed, paid for by the joins
	case r.History != nil:
		want = min(*r.History, c.srv.cfg.HistoryLimit)
	}
	return 1 + want/historyPage
}

// historyCost is a history page's cost in tokens: one per historyPage
// messages it may hold.
func (c *conn) historyCost(r *protocol.Request) int {
	limit := c.srv.cfg.HistoryLimit
	if r.Limit > 0 {
		limit = min(r.Limit, limit)
	}
	return max(1, (limit+historyPage-1)/historyPage)
}

// allowRequest takes r's cost from the bucket of its class, which h
// declares, or refuses it with rate_limited and how long until it would
// be allowed.
func (c *conn) allowRequest(r *protocol.Request, h requestHandler) *protocol.Error {
	scale := c.srv.cfg.RequestRate
	class := h.class
	if scale <= 0 || class == classSends {
		return nil
	}
	cost := 1
	if h.cost != nil {
		cost = h.cost(c, r)
	}
	a := c.act()
	if a.reqLimits == nil {
		a.reqLimits = new([numClasses]*rate.Limiter)
	}
	lim := a.reqLimits[class]
	if lim == nil {
		l := requestLimits[class]
		burst := max(1, int(math.Round(float64(l.burst(&c.srv.cfg))*scale)))
		lim = rate.NewLimiter(rate.Limit(l.rate*scale), burst)
		a.reqLimits[class] = lim
	}
	cost = min(cost, lim.Burst())
	now := time.Now()
	res := lim.ReserveN(now, cost)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return &protocol.Error{Code: protocol.CodeRateLimited, RetryAfterMS: ceilMillis(d), Message: fmt.Sprintf(
			"too many %s: at most %g per second on one connection; send it again after retry_after_ms",
			requestLimits[class].what, float64(lim.Limit()))}
	}
	return nil
}
