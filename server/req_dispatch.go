package server

import (
	"github.com/chatd/chatd/protocol"
)

// maxStrikes is how many refused requests in a row a client may send
// before it is closed with 1008. rate_limited is flow control, not
// misbehaviour: it neither counts nor resets the count.
const maxStrikes = 20

// requestHandler is how the server carries out one request type.
type requestHandler struct {
	// needs are the fields the type requires; DecodeRequest refuses a
	// request without them, so handle may rely on them.
	needs protocol.Needs
	// class is the rate bucket the type takes from (see requestLimits),
	// classOther unless set; cost, if set, is how many tokens a request
	// takes, else one.
	class requestClass
	cost  func(c *conn, r *protocol.Request) int
	// handle carries out a valid request and fills in its ack, which is
	// queued when it returns nil. A refusal is returned for the caller to
	// answer.
	handle func(c *conn, r *protocol.Request, ack *protocol.Ack) *protocol.Error
	// acksItself says that handle queues the ack on success itself (or
	// has it queued later), instead of leaving it to handleRequest.
	acksItself bool
}

// requestHandlers has every request type a JSON client may send. Adding a
// request type means adding its protocol constant and a line here.
var requestHandlers = map[string]requestHandler{
	protocol.TypeJoin:     {needs: roomRange, class: classJoin, cost: (*conn).joinCost, handle: (*conn).handleJoin},
	protocol.TypeLeave:    {needs: roomRange, handle: (*conn).handleLeave},
	protocol.TypeWho:      {needs: roomRange, class: classRoster, handle: (*conn).handleWho},
	protocol.TypeTyping:   {needs: roomRange, handle: (*conn).handleTyping},
	protocol.TypeHistory:  {needs: roomRange, class: classHistory, cost: (*conn).historyCost, handle: (*conn).handleHistory},
	protocol.TypeCreate:   {needs: roomRange, class: classManage, handle: (*conn).handleCreate},
	protocol.TypeMembers:  {needs: roomRange, class: classRoster, handle: (*conn).handleMembers},
	protocol.TypeSend:     {needs: protocol.NeedsRoom | protocol.NeedsText, class: classSends, handle: (*conn).handleSend, acksItself: true},
	protocol.TypeEdit:     {needs: protocol.NeedsRoom | protocol.NeedsTarget | protocol.NeedsText, class: classSends, handle: (*conn).handleEdit, acksItself: true},
	protocol.TypeDelete:   {needs: protocol.NeedsRoom | protocol.NeedsTarget, class: classSends, handle: (*conn).handleDelete, acksItself: true},
	protocol.TypeReact:    {needs: protocol.NeedsRoom | protocol.NeedsTarget | protocol.NeedsEmoji, class: classSends, handle: (*conn).handleReact, acksItself: true},
	protocol.TypeUnreact:  {needs: protocol.NeedsRoom | protocol.NeedsTarget | protocol.NeedsEmoji, class: classSends, handle: (*conn).handleUnreact, acksItself: true},
	protocol.TypeDM:       {needs: protocol.NeedsTo | protocol.NeedsText, class: classSends, handle: (*conn).handleDM},
	protocol.TypeRead:     {needs: protocol.NeedsRoom | protocol.NeedsSeq, handle: (*conn).handleRead},
	protocol.TypeInvite:   {needs: protocol.NeedsRoom | protocol.NeedsTo, class: classManage, handle: (*conn).handleInvite},
	protocol.TypeRemove:   {needs: protocol.NeedsRoom | protocol.NeedsTo, class: classManage, handle: (*conn).handleRemove},
	protocol.TypeAuth:     {needs: protocol.NeedsToken, handle: (*conn).handleAuth},
	protocol.TypeRooms:    {class: classRooms, handle: (*conn).handleRooms},
	protocol.TypeMentions: {needs: protocol.NeedsRange, class: classHistory, handle: (*conn).handleMentions},
	protocol.TypeSearch:   {class: classSearch, handle: (*conn).handleSearch},
}

// roomRange is what the requests about one room need.
const roomRange = protocol.NeedsRoom | protocol.NeedsRange

// needsOf tells DecodeRequest the request types there are and what each
// requires.
func needsOf(typ string) (protocol.Needs, bool) {
	h, ok := requestHandlers[typ]
	return h.needs, ok
}

// handleText handles one complete text message from the client.
func (c *conn) handleText(text []byte) {
	if c.format == formatPlain {
		c.handlePlain(text)
		return
	}
	c.awaitRoom()
	c.handling.Lock()
	defer c.handling.Unlock()
	req, perr := protocol.DecodeRequest(text, needsOf)
	if perr == nil {
		perr = c.handleRequest(&req)
	}
	if perr == nil {
		if c.active != nil {
			c.active.strikes = 0
		}
		return
	}
	c.send(jsonFrame(protocol.ErrorEvent{Type: protocol.TypeError, ID: req.ID, Code: perr.Code, Message: perr.Message, RetryAfterMS: perr.RetryAfterMS}))
	c.srv.stats.requestError(perr.Code)
	if perr.Code == protocol.CodeRateLimited {
		return
	}
	a := c.act()
	a.strikes++
	if a.strikes >= maxStrikes {
		c.closeWith(closeFrame(protocol.ClosePolicyViolation, "too many refused requests in a row"), false)
	}
}

// handleRequest carries out one valid JSON request with its handler and
// queues its ack; a refusal is returned for the caller to answer.
func (c *conn) handleRequest(r *protocol.Request) *protocol.Error {
	h := requestHandlers[r.Type] // DecodeRequest refused types without one
	if e := c.allowRequest(r, h); e != nil {
		return e
	}
	ack := protocol.Ack{Type: protocol.TypeAck, ID: r.ID, Request: r.Type, Room: r.Room}
	if e := h.handle(c, r, &ack); e != nil {
		return e
	}
	if !h.acksItself {
		c.send(jsonFrame(ack))
	}
	return nil
}
