package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatd/chatd/protocol"
	"github.com/chatd/chatd/store"
)

// Rooms are public unless created private. A private room admits its
// members only: a non-member can neither join it, read its history, list
// who is in it, nor see it in a rooms reply, so guessing its name teaches
// nothing of its messages. Membership belongs to accounts (and JWT users,
// whose token may also grant rooms), never to guests, whose names are not
// proven.

// mayEnter reports whether id may see room: every public room, and the
// private rooms id is a member of.
func (s *Server) mayEnter(ctx context.Context, id identity, room string) (bool, error) {
	if s.cfg.Accounts == nil {
		return true, nil
	}
	rm, err := s.cfg.Accounts.Room(ctx, room)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("look up room %q: %w", room, err)
	case !rm.Private:
		return true, nil
	case !id.signedIn():
		return false, nil
	case id.kind == protocol.AuthJWT && id.granted(room):
		return true, nil
	}
	ok, err := s.cfg.Accounts.IsMember(ctx, room, id.key())
	if err != nil {
		return false, fmt.Errorf("membership of %q in %q: %w", id.name, room, err)
	}
	return ok, nil
}

// checkEnter answers a request for room with forbidden when c may not see
// it.
func (c *conn) checkEnter(room string) *protocol.Error {
	ctx, cancel := c.storeContext()
	defer cancel()
	ok, err := c.srv.mayEnter(ctx, c.identity(), room)
	switch {
	case err != nil:
		c.srv.log.Warn("room access", "room", room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	case !ok:
		return forbiddenRoom(room)
	}
	return nil
}

func forbiddenRoom(room string) *protocol.Error {
	return protocol.Errorf(protocol.CodeForbidden, "room %q is private; ask its owner for an invitation", room)
}

// handleCreate handles a create request.
func (c *conn) handleCreate(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	id := c.identity()
	accts := c.srv.cfg.Accounts
	switch {
	case accts == nil:
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no accounts, so rooms have no owners")
	case !id.signedIn():
		return protocol.Errorf(protocol.CodeForbidden, "guests cannot create rooms; register or log in")
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	// A room that people are in, or that has history, is already someone's:
	// making it private would hide it from them.
	_, users := c.srv.hub.MembersAfter(r.Room, "", 0, nil)
	used := users > 0
	if st := c.srv.cfg.Store; st != nil && !used {
		last, err := st.LastSeq(ctx, r.Room)
		if err != nil {
			c.srv.log.Warn("create room", "room", r.Room, "err", err)
			return protocol.Errorf(protocol.CodeUnavailable, "the history store failed; try again")
		}
		used = last > 0
	}
	if used {
		return protocol.Errorf(protocol.CodeConflict, "room %q exists already", r.Room)
	}
	if e := c.checkRoomQuota(ctx, id); e != nil {
		return e
	}
	err := accts.CreateRoom(ctx, store.Room{Name: r.Room, Owner: id.key(), Private: r.Private, Created: time.Now()})
	switch {
	case errors.Is(err, store.ErrExists):
		return protocol.Errorf(protocol.CodeConflict, "room %q exists already", r.Room)
	case err != nil:
		c.srv.log.Warn("create room", "room", r.Room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	}
	if r.Private {
		// Someone may have joined between the check and the creation.
		c.srv.evictNonMembers(r.Room, id.name)
	}
	ack.Private = r.Private
	return nil
}

// checkRoomQuota refuses a room to a user who owns RoomsPerAccount
// already: each is a permanent record, so creating them in a loop would
// grow the store without bound. Two creations racing from two connections
// of one user may both pass; the per-connection create rate bounds that.
func (c *conn) checkRoomQuota(ctx context.Context, id identity) *protocol.Error {
	quota := c.srv.cfg.RoomsPerAccount
	if quota <= 0 {
		return nil
	}
	n, err := c.srv.cfg.Accounts.RoomsOwned(ctx, id.key())
	if err != nil {
		c.srv.log.Warn("create room", "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	}
	if n >= quota {
		return protocol.Errorf(protocol.CodeRoomQuota, "an account may own at most %d rooms", quota)
	}
	return nil
}

// ownedRoom returns room if c's user owns it, for invite and remove.
func (c *conn) ownedRoom(ctx context.Context, room string) (store.Room, *protocol.Error) {
	accts := c.srv.cfg.Accounts
	if accts == nil {
		return store.Room{}, protocol.Errorf(protocol.CodeUnavailable, "this server keeps no accounts, so rooms have no owners")
	}
	id := c.identity()
	rm, err := accts.Room(ctx, room)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rm, protocol.Errorf(protocol.CodeUnknownRoom, "room %q has no owner; create it first", room)
	case err != nil:
		c.srv.log.Warn("look up room", "room", room, "err", err)
		return rm, protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	case !id.signedIn() || rm.Owner != id.key():
		return rm, protocol.Errorf(protocol.CodeForbidden, "only the owner of room %q may do that", room)
	case !rm.Private:
		return rm, protocol.Errorf(protocol.CodeBadRequest, "room %q is public: everyone may join it", room)
	}
	return rm, nil
}

// handleInvite handles an invite request: to becomes a member.
func (c *conn) handleInvite(r *protocol.Request, _ *protocol.Ack) *protocol.Error {
	ctx, cancel := c.storeContext()
	defer cancel()
	if _, e := c.ownedRoom(ctx, r.Room); e != nil {
		return e
	}
	if err := protocol.ValidateName(r.To); err != nil || isGuestName(r.To) {
		return protocol.Errorf(protocol.CodeUnknownUser, "%q is not a user name that can be invited", r.To)
	}
	// Only users who exist can be invited: an invitation to a bare name
	// would go, with the room's history, to whoever registered it first.
	switch registered, err := c.srv.isRegistered(ctx, r.To); {
	case err != nil:
		c.srv.log.Warn("invite", "room", r.Room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	case !registered:
		return protocol.Errorf(protocol.CodeUnknownUser, "no account or JWT user is named %q; only they can be invited", r.To)
	}
	if err := c.srv.cfg.Accounts.AddMember(ctx, r.Room, strings.ToLower(r.To)); err != nil {
		c.srv.log.Warn("invite", "room", r.Room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	}
	frame := jsonFrame(protocol.Invited{Type: protocol.TypeInvited, Room: r.Room, From: c.identity().name})
	for _, x := range c.srv.sessions.connsOf(strings.ToLower(r.To)) {
		if x.format == formatJSON && x.identity().signedIn() {
			x.send(frame)
		}
	}
	return nil
}

// dropInvitationsOfNobody ends the memberships of key while no user has
// it: invitations to a bare name, made before invitations required a
// user, would otherwise hand whoever registers the name first the rooms
// and their history.
func (s *Server) dropInvitationsOfNobody(ctx context.Context, key string) error {
	if registered, err := s.isRegistered(ctx, key); err != nil || registered {
		return err
	}
	rooms, err := s.cfg.Accounts.RoomsOf(ctx, key)
	if err != nil {
		return fmt.Errorf("rooms of %q: %w", key, err)
	}
	for _, rm := range rooms {
		if err := s.cfg.Accounts.RemoveMember(ctx, rm.Name, key); err != nil {
			return fmt.Errorf("remove %q from %q: %w", key, rm.Name, err)
		}
	}
	return nil
}

// handleRemove handles a remove request: to stops being a member, and its
// connections leave the room.
func (c *conn) handleRemove(r *protocol.Request, _ *protocol.Ack) *protocol.Error {
	ctx, cancel := c.storeContext()
	defer cancel()
	rm, e := c.ownedRoom(ctx, r.Room)
	if e != nil {
		return e
	}
	to := strings.ToLower(r.To)
	if to == rm.Owner {
		return protocol.Errorf(protocol.CodeBadRequest, "the owner cannot be removed from room %q", r.Room)
	}
	if err := c.srv.cfg.Accounts.RemoveMember(ctx, r.Room, to); err != nil {
		c.srv.log.Warn("remove member", "room", r.Room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	}
	by := c.identity().name
	for _, x := range c.srv.sessions.connsOf(to) {
		if x.identity().kind == protocol.AuthJWT && x.identity().granted(r.Room) {
			continue // the token grants the room; only its issuer can take that back
		}
		c.srv.forceLeave(x, r.Room, by)
	}
	c.srv.tellUser(to, userNotice{Kind: noticeRemoved, Room: r.Room, By: by})
	return nil
}

// handleMembers handles a members request: the member list of a private
// room, for its members.
func (c *conn) handleMembers(r *protocol.Request, ack *protocol.Ack) *protocol.Error {
	if c.srv.cfg.Accounts == nil {
		return protocol.Errorf(protocol.CodeUnknownRoom, "room %q is public and has no member list; use who", r.Room)
	}
	if e := c.checkEnter(r.Room); e != nil {
		return e
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	rm, err := c.srv.cfg.Accounts.Room(ctx, r.Room)
	if errors.Is(err, store.ErrNotFound) || err == nil && !rm.Private {
		return protocol.Errorf(protocol.CodeUnknownRoom, "room %q is public and has no member list; use who", r.Room)
	}
	var keys []string
	if err == nil {
		keys, err = c.srv.cfg.Accounts.Members(ctx, r.Room)
	}
	if err != nil {
		c.srv.log.Warn("members", "room", r.Room, "err", err)
		return protocol.Errorf(protocol.CodeUnavailable, "the account store failed; try again")
	}
	if keys == nil {
		keys = []string{}
	}
	ack.Members = keys
	ack.Private = true
	return nil
}

// forceLeave takes x out of room, if it is in it, and tells it why. It
// runs on its own goroutine because it takes x's handling lock, and the
// caller holds its own: two owners removing each other must not wait on
// each other.
func (s *Server) forceLeave(x *conn, room, by string) {
	s.bg.Go(func() {
		x.handling.Lock()
		defer x.handling.Unlock()
		if !x.rooms.has(room) {
			return
		}
		x.leave(room)
		if x.format == formatJSON {
			x.send(jsonFrame(protocol.Removed{Type: protocol.TypeRemoved, Room: room, By: by}))
		} else {
			x.closeWith(closeFrame(protocol.ClosePolicyViolation, "removed from private room "+room+" by "+by), false)
		}
	})
}

// evictNonMembers takes out of a room that just became private everyone
// who joined it before, except owner.
func (s *Server) evictNonMembers(room, owner string) {
	if members, users := s.hub.MembersAfter(room, "", 1, nil); users == 0 || users == 1 && strings.EqualFold(members[0], owner) {
		return // the usual case: nobody slipped in
	}
	s.mu.Lock()
	var in []*conn
	for c := range s.conns {
		if !strings.EqualFold(c.sess.name, owner) {
			in = append(in, c)
		}
	}
	s.mu.Unlock()
	for _, c := range in {
		s.forceLeave(c, room, owner)
	}
}

// visibleRooms filters a rooms reply down to what c may see, and adds the
// private rooms c's user is a member of that nobody is in right now. It
// asks the store about all listed rooms at once.
func (c *conn) visibleRooms(all []protocol.RoomInfo) ([]protocol.RoomInfo, error) {
	accts := c.srv.cfg.Accounts
	if accts == nil {
		return all, nil
	}
	ctx, cancel := c.storeContext()
	defer cancel()
	id := c.identity()
	names := make([]string, 0, len(all)+len(id.grants))
	for _, info := range all {
		names = append(names, info.Room)
	}
	names = append(names, id.grants...)
	records, err := accts.RoomsNamed(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("look up rooms: %w", err)
	}
	private := make(map[string]bool, len(records))
	for _, rm := range records {
		private[rm.Name] = rm.Private
	}
	mine := map[string]bool{} // private rooms c's user may see
	if id.signedIn() {
		rooms, err := accts.RoomsOf(ctx, id.key())
		if err != nil {
			return nil, fmt.Errorf("rooms of %q: %w", id.name, err)
		}
		for _, rm := range rooms {
			mine[rm.Name] = rm.Private
		}
		for _, g := range id.grants {
			mine[g] = mine[g] || private[g]
		}
	}
	out := make([]protocol.RoomInfo, 0, len(all)+len(mine))
	for _, info := range all {
		switch {
		case !private[info.Room]:
			out = append(out, info)
		case mine[info.Room]:
			info.Private = true
			out = append(out, info)
			delete(mine, info.Room)
		}
	}
	for room, private := range mine {
		if private {
			out = append(out, protocol.RoomInfo{Room: room, Private: true})
		}
	}
	slices.SortFunc(out, func(a, b protocol.RoomInfo) int { return strings.Compare(a.Room, b.Room) })
	return out, nil
}
