package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/protocol"
)

// mentionMark marks the line of a message or an edit whose text mentions
// the user named me.
func mentionMark(m *protocol.Message, me string) string {
	if m.Deleted || !slices.ContainsFunc(protocol.ParseMentions(m.Text), func(n string) bool { return strings.EqualFold(n, me) }) {
		return ""
	}
	return " (mentions you)"
}

// mentionLine is how a mention event is shown: who mentioned the user,
// where, and the message, whether or not the client is in the room.
func mentionLine(m *protocol.Message) string {
	seq := m.Seq
	if m.Target != 0 {
		seq = m.Target
	}
	return fmt.Sprintf("%s [%s] @ %s mentioned you in #%d: %s", clock(time.UnixMilli(m.TS)), m.Room, clean(m.From), seq, clean(m.Text))
}

// mentions lists the newest n messages that mentioned the user (rest
// "[N]"), newest last, like /history.
func (a *app) mentions(ctx context.Context, rest string) {
	n := 20
	if rest != "" {
		v, err := strconv.Atoi(rest)
		if err != nil || v <= 0 {
			a.out.problem("usage: /mentions [N]")
			return
		}
		n = min(v, protocol.MaxMentionsPage)
	}
	msgs, next, err := a.cl.Mentions(ctx, "", n)
	if err != nil {
		a.out.problem("mentions: %v", err)
		return
	}
	if len(msgs) == 0 {
		a.out.notice("no mentions (a guest's are not kept)")
		return
	}
	if next != "" {
		a.out.notice("older mentions exist; /mentions %d shows more", 2*n)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		a.out.line("%s", messageLine(&msgs[i]))
	}
}
