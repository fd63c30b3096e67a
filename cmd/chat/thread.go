package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/protocol"
)

// threadPage is how many of a thread's newest replies /thread shows.
const threadPage = 50

// threadView is the thread that /reply answers in: the root's seq in a
// room, or none.
type threadView struct {
	room string
	root uint64
}

// replyNote shows what a message answers, after its author: " in thread
// #3", " re #2", or both.
func replyNote(m *protocol.Message) string {
	var s string
	if m.Thread != 0 {
		s = fmt.Sprintf(" in thread #%d", m.Thread)
		if m.AlsoRoom {
			s += " (also in the room)"
		}
	}
	if m.ReplyTo != 0 && m.ReplyTo != m.Thread {
		s += fmt.Sprintf(" re #%d", m.ReplyTo)
	}
	return s
}

// threadNote shows a root's thread after its text: " (3 replies, last
// 15:04:05; /thread 41)".
func threadNote(m *protocol.Message) string {
	if m.Replies == 0 {
		return ""
	}
	noun := "replies"
	if m.Replies == 1 {
		noun = "reply"
	}
	return fmt.Sprintf(" (%d %s, last %s; /thread %d)", m.Replies, noun, clock(time.UnixMilli(m.LastReplyTS)), m.Seq)
}

// reply sends a reply (rest "SEQ TEXT") to a message of the current room,
// or, in the thread opened in it, a thread reply answering that message.
func (a *app) reply(ctx context.Context, rest string) {
	arg, text, _ := strings.Cut(rest, " ")
	seq, err := strconv.ParseUint(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || seq == 0 || text == "" {
		a.out.problem("usage: /reply SEQ TEXT")
		return
	}
	if a.current == "" {
		a.out.problem("you are in no room; /join ROOM first")
		return
	}
	var ack *client.Ack
	if t := a.thread; t.root != 0 && t.room == a.current {
		ack, err = a.cl.ThreadReply(ctx, a.current, t.root, seq, text, false)
	} else {
		ack, err = a.cl.Reply(ctx, a.current, seq, text)
	}
	if err != nil {
		a.out.problem("reply to #%d: %v", seq, err)
		return
	}
	a.out.sent(ack.Room, ack.Seq)
}

// openThread prints the thread of message arg of the current room (its
// root and newest replies) and opens it for /reply; no arg closes it.
func (a *app) openThread(ctx context.Context, arg string) {
	if arg == "" {
		if a.thread.root != 0 {
			a.out.notice("closed thread #%d; /reply answers in the room", a.thread.root)
		}
		a.thread = threadView{}
		return
	}
	root, err := strconv.ParseUint(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || root == 0 {
		a.out.problem("usage: /thread SEQ")
		return
	}
	if a.current == "" {
		a.out.problem("you are in no room; /join ROOM first")
		return
	}
	first, _, err := a.cl.History(ctx, a.current, root+1, 1)
	if err != nil {
		a.out.problem("thread #%d: %v", root, err)
		return
	}
	if len(first) != 1 || first[0].Seq != root || first[0].Type != protocol.TypeMessage {
		a.out.problem("thread #%d: #%s has no message %d", root, a.current, root)
		return
	}
	if first[0].Thread != 0 {
		a.out.problem("thread #%d: it is a reply in thread #%d; /thread %d", root, first[0].Thread, first[0].Thread)
		return
	}
	replies, more, err := a.cl.Thread(ctx, a.current, root, 0, threadPage)
	if err != nil {
		a.out.problem("thread #%d: %v", root, err)
		return
	}
	a.out.line("%s", messageLine(&first[0]))
	if more {
		a.out.notice("older replies exist; the newest %d follow", len(replies))
	}
	for _, m := range replies {
		a.out.line("  %s", messageLine(&m))
	}
	a.thread = threadView{room: a.current, root: root}
	a.out.notice("in thread #%d: /reply SEQ TEXT answers in it (SEQ %d for its root); /thread closes it", root, root)
}
