package natsbus

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
)

// userPrefix starts every user's subject: notices for the nodes where the
// user has connections (direct messages, read positions, revocations).
const userPrefix = "chatd.user."

func userSubject(key string) string {
	return userPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// userSub is one user's subscription and the number of local connections
// that asked for it.
type userSub struct {
	sub   *nats.Subscription
	conns int
}

// FollowUser subscribes to the notices for user key, once per local
// connection of the user: the subscription lasts until as many
// UnfollowUser calls. It does not wait for the server.
func (b *Bus) FollowUser(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if u := b.users[key]; u != nil {
		u.conns++
		return
	}
	sub, err := b.nc.Subscribe(userSubject(key), b.receiveUser(key))
	if err != nil {
		b.log.Warn("cluster follow user", "user", key, "err", err)
		sub = nil
	}
	b.users[key] = &userSub{sub: sub, conns: 1}
}

// UnfollowUser undoes one FollowUser.
func (b *Bus) UnfollowUser(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[key]
	if u == nil {
		return
	}
	if u.conns--; u.conns > 0 {
		return
	}
	delete(b.users, key)
	if u.sub != nil {
		if err := u.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.log.Warn("cluster unfollow user", "user", key, "err", err)
		}
	}
}

// ToUser hands notice to every other node where user key has connections,
// and returns the first one's answer: how many connections took it. found
// is false when no other node follows the user.
func (b *Bus) ToUser(ctx context.Context, key string, notice []byte) (delivered int, found bool, err error) {
	reply, err := b.nc.RequestWithContext(ctx, userSubject(key), notice)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("nats: notice for %q: %w", key, err)
	}
	n, err := strconv.Atoi(string(reply.Data))
	if err != nil {
		return 0, true, fmt.Errorf("nats: answer for %q: %q", key, reply.Data)
	}
	return n, true, nil
}

// TellUser hands notice to every other node where user key has
// connections, without waiting.
func (b *Bus) TellUser(key string, notice []byte) {
	if err := b.nc.Publish(userSubject(key), notice); err != nil {
		b.log.Warn("cluster user notice", "user", key, "err", err)
	}
}

// receiveUser runs on the subscription's goroutine. A node's own notices
// never reach it (the connection has NoEcho).
func (b *Bus) receiveUser(key string) nats.MsgHandler {
	return func(msg *nats.Msg) {
		s := b.sink.Load()
		if s == nil {
			return
		}
		n := (*s).UserNotice(key, msg.Data)
		if msg.Reply != "" {
			if err := msg.Respond([]byte(strconv.Itoa(n))); err != nil {
				b.log.Warn("cluster user notice", "user", key, "err", err)
			}
		}
	}
}
