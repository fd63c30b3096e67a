package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/protocol"
)

const help = `Type a line to send it to the current room. Commands:
  /join ROOM        join ROOM and make it the current room
  /leave [ROOM]     leave ROOM (default: the current room)
  /rooms            list the rooms on the server
  /who [ROOM]       list the users in ROOM (default: the current room)
  /msg USER TEXT    send a direct message
  /nick NAME        become NAME: names belong to a connection, so this
                    reconnects under the new name and rejoins your rooms
                    (others see you leave and join)
  /history [N]      show the last N messages of the current room (default 20)
  /edit SEQ TEXT    replace the text of your message #SEQ in the current room
  /delete SEQ       delete your message #SEQ in the current room (a private
                    room's owner may delete anyone's)
  /react SEQ EMOJI  add your reaction EMOJI (👍 or a :name:) to message #SEQ of
                    the current room, or take it back if you gave it
  /mentions [N]     show the newest N messages that mentioned you (@name),
                    in any room you may read (default 20)
  /search [room:ROOM] [from:USER] [after:DATE] [before:DATE] [best] WORDS
                    find messages with WORDS in the rooms you may read,
                    newest (or best) first; a * at the end makes the last
                    word a prefix (dep*); DATE is 2006-01-02 or 2006-01-02T15:04
  /more             the next hits of the last search
  /around [ROOM] SEQ  show message #SEQ among the messages around it
  /reply SEQ TEXT   reply to message #SEQ of the current room; in a thread
                    opened with /thread, reply in that thread
  /thread SEQ       show the thread of message #SEQ and open it for /reply
                    (/thread alone closes it)
  /quit             leave (so does end of input, Ctrl-D)
  /help             this text
A line starting with // sends the rest of it starting with one /.`

// interactive runs commands and sends lines until /quit, the end of input,
// or a connection that cannot be re-established.
func (a *app) interactive(ctx context.Context, lines <-chan input) error {
	cl, err := a.dial(ctx, a.cfg.name, a.cfg.session, nil)
	if err != nil {
		return err
	}
	a.use(cl)
	a.out.notice("connected to %s as %s; /help lists the commands", a.cfg.url, cl.Name())
	if a.cfg.room != "" {
		a.join(ctx, a.cfg.room)
	}
	for {
		select {
		case in, ok := <-lines:
			if !ok {
				return nil
			}
			if in.err != nil {
				return fmt.Errorf("reading input: %w", in.err)
			}
			if quit := a.command(ctx, in.line); quit {
				return nil
			}
		case <-a.cl.Done():
			return a.cl.Err()
		case <-ctx.Done():
			return nil
		}
	}
}

// command carries out one input line; it reports whether to quit.
func (a *app) command(ctx context.Context, line string) (quit bool) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return false
	}
	if !strings.HasPrefix(line, "/") || strings.HasPrefix(line, "//") {
		a.say(ctx, strings.TrimPrefix(line, "/"))
		return false
	}
	cmd, rest, _ := strings.Cut(line[1:], " ")
	rest = strings.TrimSpace(rest)
	arg, _, _ := strings.Cut(rest, " ")
	ctx, cancel := a.reqCtx(ctx)
	defer cancel()
	switch cmd {
	case "join", "j":
		if arg == "" {
			a.out.problem("usage: /join ROOM")
			return false
		}
		a.join(ctx, arg)
	case "leave", "part":
		room := a.current
		if arg != "" {
			room = arg
		}
		if room == "" {
			a.out.problem("usage: /leave ROOM")
			return false
		}
		if err := a.cl.Leave(ctx, room); err != nil {
			a.out.problem("leave %s: %v", room, err)
			return false
		}
		a.out.notice("left #%s", room)
		if strings.EqualFold(room, a.current) {
			a.current = ""
			if joined := a.cl.Joined(); len(joined) > 0 {
				a.current = joined[len(joined)-1]
				a.out.notice("now talking in #%s", a.current)
			} else {
				a.out.notice("you are in no room; /join ROOM")
			}
		}
	case "rooms":
		rooms, err := a.cl.Rooms(ctx)
		if err != nil {
			a.out.problem("rooms: %v", err)
			return false
		}
		if len(rooms) == 0 {
			a.out.notice("no rooms")
			return false
		}
		joined := a.cl.Joined()
		var b strings.Builder
		for i, r := range rooms {
			if i > 0 {
				b.WriteString(", ")
			}
			mark := ""
			if slices.Contains(joined, r.Room) {
				mark = "*"
			}
			fmt.Fprintf(&b, "%s%s (%d)", mark, r.Room, r.Members)
		}
		a.out.notice("rooms (* joined): %s", b.String())
	case "who":
		room := a.current
		if arg != "" {
			room = arg
		}
		if room == "" {
			a.out.problem("usage: /who ROOM")
			return false
		}
		members, err := a.cl.Who(ctx, room)
		if err != nil {
			a.out.problem("who %s: %v", room, err)
			return false
		}
		a.out.notice("in #%s: %s", strings.ToLower(room), strings.Join(members, ", "))
	case "msg", "dm":
		to, text, _ := strings.Cut(rest, " ")
		if to == "" || text == "" {
			a.out.problem("usage: /msg USER TEXT")
			return false
		}
		ack, err := a.cl.DM(ctx, to, text)
		if err != nil {
			a.out.problem("not sent to %s: %v", to, err)
			return false
		}
		a.out.sentDM(ack.Time(), to, text)
	case "nick":
		if arg == "" {
			a.out.problem("usage: /nick NAME")
			return false
		}
		a.nick(ctx, arg)
	case "history":
		n := 20
		if arg != "" {
			var err error
			if n, err = strconv.Atoi(arg); err != nil || n <= 0 {
				a.out.problem("usage: /history [N]")
				return false
			}
		}
		a.history(ctx, n)
	case "edit", "delete":
		a.change(ctx, cmd, rest)
	case "react":
		a.react(ctx, rest)
	case "mentions":
		a.mentions(ctx, rest)
	case "search":
		a.search(ctx, rest, false)
	case "more":
		a.search(ctx, "", true)
	case "around":
		a.around(ctx, rest)
	case "reply":
		a.reply(ctx, rest)
	case "thread":
		a.openThread(ctx, arg)
	case "quit", "exit", "q":
		return true
	case "help", "h", "?":
		a.out.plain(help)
	default:
		a.out.problem("unknown command /%s; /help lists the commands", cmd)
	}
	return false
}

func (a *app) join(ctx context.Context, room string) {
	members, err := a.cl.Join(ctx, room)
	if err != nil {
		a.out.problem("join %s: %v", room, err)
		return
	}
	joined := a.cl.Joined()
	// The server names rooms in lower case.
	a.current = strings.ToLower(room)
	if i := slices.IndexFunc(joined, func(r string) bool { return strings.EqualFold(r, room) }); i >= 0 {
		a.current = joined[i]
	}
	a.out.notice("joined #%s (%s); now talking in #%s", a.current, memberList(members), a.current)
}

// memberList shows the names a join returned, and how many users it left
// out in a large room.
func memberList(m client.Members) string {
	list := strings.Join(m.Names, ", ")
	if more := m.Users - len(m.Names); more > 0 {
		list += fmt.Sprintf(" and %d more; /who lists them", more)
	}
	return list
}

// say sends text to the current room.
func (a *app) say(ctx context.Context, text string) {
	if a.current == "" {
		a.out.problem("you are in no room; /join ROOM first")
		return
	}
	ctx, cancel := a.reqCtx(ctx)
	defer cancel()
	ack, err := a.cl.Send(ctx, a.current, text)
	if err != nil {
		a.out.problem("not sent: %v", err)
		return
	}
	a.out.sent(ack.Room, ack.Seq)
}

// change edits (cmd "edit", rest "SEQ TEXT") or deletes (cmd "delete",
// rest "SEQ") a message of the current room.
func (a *app) change(ctx context.Context, cmd, rest string) {
	usage := "usage: /edit SEQ TEXT"
	if cmd == "delete" {
		usage = "usage: /delete SEQ"
	}
	arg, text, _ := strings.Cut(rest, " ")
	seq, err := strconv.ParseUint(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || seq == 0 || cmd == "edit" && text == "" {
		a.out.problem("%s", usage)
		return
	}
	if a.current == "" {
		a.out.problem("you are in no room; /join ROOM first")
		return
	}
	var ack *client.Ack
	if cmd == "edit" {
		ack, err = a.cl.Edit(ctx, a.current, seq, text)
	} else {
		ack, err = a.cl.Delete(ctx, a.current, seq)
	}
	if err != nil {
		a.out.problem("%s #%d: %v", cmd, seq, err)
		return
	}
	a.out.sent(ack.Room, ack.Seq)
}

// react toggles the user's reaction (rest "SEQ EMOJI") to a message of
// the current room: it reads the message's reactions to tell whether the
// user gave that one already.
func (a *app) react(ctx context.Context, rest string) {
	arg, emoji, _ := strings.Cut(rest, " ")
	emoji = strings.TrimSpace(emoji)
	seq, err := strconv.ParseUint(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || seq == 0 || emoji == "" {
		a.out.problem("usage: /react SEQ EMOJI")
		return
	}
	if a.current == "" {
		a.out.problem("you are in no room; /join ROOM first")
		return
	}
	msgs, _, err := a.cl.History(ctx, a.current, seq+1, 1)
	if err != nil {
		a.out.problem("react #%d: %v", seq, err)
		return
	}
	given := false
	if len(msgs) == 1 && msgs[0].Seq == seq {
		for _, r := range msgs[0].Reactions {
			given = given || r.Emoji == emoji && slices.Contains(r.Users, a.cl.Name())
		}
	}
	var ack *client.Ack
	if given {
		ack, err = a.cl.Unreact(ctx, a.current, seq, emoji)
	} else {
		ack, err = a.cl.React(ctx, a.current, seq, emoji)
	}
	if err != nil {
		a.out.problem("react #%d: %v", seq, err)
		return
	}
	a.out.sent(ack.Room, ack.Seq)
}

// nick connects as name, in the same rooms, and closes the old connection.
func (a *app) nick(ctx context.Context, name string) {
	old := a.cl
	session := ""
	if strings.EqualFold(name, old.Name()) {
		session = old.Session() // the same user; another connection may change nothing but the case
	}
	rooms := old.Joined()
	if session == "" {
		a.out.renaming(rooms, old.Name(), name, false)
	}
	cl, err := a.dial(ctx, name, session, rooms)
	if err != nil {
		a.out.renaming(rooms, old.Name(), name, true)
		a.out.problem("nick %s: %v", name, err)
		return
	}
	a.use(cl)
	a.out.notice("you are now %s", cl.Name())
	if a.current != "" && !slices.Contains(cl.Joined(), a.current) {
		a.current = ""
	}
}

// history prints the newest n messages of the current room.
func (a *app) history(ctx context.Context, n int) {
	if a.current == "" {
		a.out.problem("join a room first")
		return
	}
	msgs, more, err := a.newest(ctx, n)
	if client.ErrorCode(err) == protocol.CodeUnavailable {
		a.out.notice("no history: %v", err)
		return
	}
	if err != nil {
		a.out.problem("history: %v", err)
		return
	}
	if more {
		a.out.notice("older messages exist; /history %d shows more", 2*n)
	}
	for _, m := range msgs {
		a.out.line("%s", messageLine(&m))
	}
}

// newest fetches the newest n messages of the current room, oldest first,
// asking for older pages while the server's replies stop short of n (it
// bounds each reply by bytes), and reports whether older ones remain.
func (a *app) newest(ctx context.Context, n int) ([]protocol.Message, bool, error) {
	var msgs []protocol.Message
	before := uint64(0)
	for {
		page, more, err := a.cl.History(ctx, a.current, before, n-len(msgs))
		if err != nil {
			return nil, false, err
		}
		msgs = append(page, msgs...)
		if !more || len(page) == 0 || len(msgs) >= n {
			return msgs, more, nil
		}
		before = page[0].Seq
	}
}
