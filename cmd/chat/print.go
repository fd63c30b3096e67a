package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/protocol"
)

// typingQuiet is how long a user's typing in a room is not reported again.
const typingQuiet = 10 * time.Second

// printer writes what the user sees. Events go to out, as text or, with
// json, as the server's JSON objects; a quiet printer (scripts) shows no
// events at all. Notices (the client's own messages) go to out as text, or
// to errw in JSON or quiet mode so that out stays JSON or empty; problems
// always go to errw. It is safe for concurrent use.
type printer struct {
	mu     sync.Mutex
	out    io.Writer
	errw   io.Writer
	json   bool
	quiet  bool
	typing map[[2]string]time.Time // user, room → when last reported
	// shown is the newest message printed in each room: a rejoin, a
	// reconnect or a /nick replays messages already on the screen.
	shown map[string]uint64
	// own are the presence events of a /nick in progress, which would
	// show the user leaving and joining: room, event, user → pending.
	own map[[3]string]bool
}

func newPrinter(out, errw io.Writer, json, quiet bool) *printer {
	return &printer{out: out, errw: errw, json: json, quiet: quiet,
		typing: make(map[[2]string]time.Time), shown: make(map[string]uint64), own: make(map[[3]string]bool)}
}

// due reports whether ev is to be shown, and records it as shown.
func (p *printer) due(ev client.Event, me string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.(type) {
	case *client.Message, *client.Edit, *client.Delete, *client.React, *client.Unreact, *client.Reactions, *client.Mention, *client.DM, *client.PresenceDiff, *client.Typing, *client.Unknown:
		if p.quiet {
			return false
		}
	}
	var m *protocol.Message
	switch ev := ev.(type) {
	case *client.Message:
		m = &ev.Message
	case *client.Edit:
		m = &ev.Message
	case *client.Delete:
		m = &ev.Message
	case *client.React:
		m = &ev.Message
	case *client.Unreact:
		m = &ev.Message
	case *client.PresenceDiff:
		ev.Joins = p.othersLocked(ev.Room, "join", ev.Joins, me)
		ev.Leaves = p.othersLocked(ev.Room, "leave", ev.Leaves, me)
		return len(ev.Joins) > 0 || len(ev.Leaves) > 0
	}
	if m != nil {
		if m.Seq != 0 && m.Seq <= p.shown[m.Room] {
			return false
		}
		p.shown[m.Room] = max(p.shown[m.Room], m.Seq)
	}
	return true
}

// othersLocked returns users without the user named me, whose own join a
// diff may carry, and without the presence of a /nick in progress.
func (p *printer) othersLocked(room, event string, users []string, me string) []string {
	out := users[:0:0]
	for _, u := range users {
		k := [3]string{room, event, strings.ToLower(u)}
		switch {
		case p.own[k]:
			delete(p.own, k)
		case event == "join" && strings.EqualFold(u, me):
		default:
			out = append(out, u)
		}
	}
	return out
}

// sent records that the user's own message seq in room is on the screen
// already, as the user typed it.
func (p *printer) sent(room string, seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown[room] = max(p.shown[room], seq)
}

// renaming hides, once in each of rooms, the join of to and the leave of
// from that a /nick causes; forget undoes it if the /nick fails.
func (p *printer) renaming(rooms []string, from, to string, forget bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, room := range rooms {
		for _, k := range [][3]string{{room, "join", strings.ToLower(to)}, {room, "leave", strings.ToLower(from)}} {
			if forget {
				delete(p.own, k)
			} else {
				p.own[k] = true
			}
		}
	}
}

// messageLine is how a message, an edit or a delete of a room is shown:
// with its seq first, which /edit and /delete name.
func messageLine(m *protocol.Message) string {
	head := fmt.Sprintf("#%d %s [%s] %s", m.Seq, clock(time.UnixMilli(m.TS)), m.Room, clean(m.From))
	switch {
	case m.Type == protocol.TypeEdit:
		return fmt.Sprintf("%s edited #%d: %s", head, m.Target, clean(m.Text))
	case m.Type == protocol.TypeDelete:
		return fmt.Sprintf("%s deleted #%d", head, m.Target)
	case m.Type == protocol.TypeReact:
		return fmt.Sprintf("%s reacted %s to #%d", head, clean(m.Emoji), m.Target)
	case m.Type == protocol.TypeUnreact:
		return fmt.Sprintf("%s took back %s from #%d", head, clean(m.Emoji), m.Target)
	}
	head += replyNote(m)
	switch {
	case m.Deleted:
		return head + ": (deleted)" + threadNote(m)
	case m.Edited != 0:
		return fmt.Sprintf("%s: %s (edited)%s%s", head, clean(m.Text), reactionsNote(m.Reactions), threadNote(m))
	}
	return fmt.Sprintf("%s: %s%s%s", head, clean(m.Text), reactionsNote(m.Reactions), threadNote(m))
}

// reactionsNote shows a message's reactions after its text: " [👍 2, :tada: 1]".
func reactionsNote(rs []protocol.Reaction) string {
	if len(rs) == 0 {
		return ""
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s %d", clean(r.Emoji), r.Count)
	}
	return " [" + strings.Join(parts, ", ") + "]"
}

func clock(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.Local().Format("15:04:05")
}

// event prints one event of the client whose user is named me.
func (p *printer) event(ev client.Event, me string) {
	if !p.due(ev, me) {
		return
	}
	if p.json {
		if raw := serverJSON(ev); raw != nil {
			p.raw(raw)
			return
		}
	}
	switch ev := ev.(type) {
	case *client.Message:
		p.line("%s%s", messageLine(&ev.Message), mentionMark(&ev.Message, me))
	case *client.Edit:
		p.line("%s%s", messageLine(&ev.Message), mentionMark(&ev.Message, me))
	case *client.Mention:
		p.line("%s", mentionLine(&ev.Message))
	case *client.Delete:
		p.line("%s", messageLine(&ev.Message))
	case *client.React:
		p.line("%s", messageLine(&ev.Message))
	case *client.Unreact:
		p.line("%s", messageLine(&ev.Message))
	case *client.Reactions:
		note := reactionsNote(ev.Reactions.Reactions)
		if note == "" {
			note = " none"
		}
		p.line("#%d %s [%s] reactions to #%d now:%s", ev.Seq, clock(time.UnixMilli(ev.TS)), ev.Room, ev.Target, note)
	case *client.DM:
		from, to := ev.From, "you"
		if strings.EqualFold(ev.From, me) { // sent from this user's other connection
			from, to = "you", ev.To
		}
		p.line("%s [dm] %s → %s: %s", clock(ev.Time()), from, to, clean(ev.Text))
	case *client.PresenceDiff:
		if len(ev.Joins) > 0 {
			p.line("%s [%s] * %s joined", clock(time.Time{}), ev.Room, strings.Join(ev.Joins, ", "))
		}
		if len(ev.Leaves) > 0 {
			p.line("%s [%s] * %s left", clock(time.Time{}), ev.Room, strings.Join(ev.Leaves, ", "))
		}
	case *client.Typing:
		if p.typingDue(ev.From, ev.Room) {
			p.line("%s [%s] * %s is typing…", clock(time.Time{}), ev.Room, ev.From)
		}
	case *client.Disconnected:
		p.notice("connection lost (%v); reconnecting…", ev.Err)
	case *client.Reconnected:
		msg := fmt.Sprintf("reconnected as %s", ev.Name)
		if ev.Name != me {
			msg += " (guests get a new name; use -name to keep one)"
		}
		if len(ev.Rooms) > 0 {
			msg += "; rejoined #" + strings.Join(ev.Rooms, ", #")
		}
		p.notice("%s", msg)
		if ev.Err != nil {
			p.problem("%v", ev.Err)
		}
	}
}

// serverJSON returns an event from the server as the server sent it, or nil
// for events of the client's own.
func serverJSON(ev client.Event) []byte {
	switch ev := ev.(type) {
	case *client.Message:
		return ev.Raw
	case *client.Edit:
		return ev.Raw
	case *client.Delete:
		return ev.Raw
	case *client.React:
		return ev.Raw
	case *client.Unreact:
		return ev.Raw
	case *client.Mention:
		return ev.Raw
	case *client.Unmention:
		return ev.Raw
	case *client.Reactions:
		return ev.Raw
	case *client.DM:
		return ev.Raw
	case *client.PresenceDiff:
		return ev.Raw
	case *client.Typing:
		return ev.Raw
	case *client.Unknown:
		return ev.Raw
	}
	return nil
}

func (p *printer) typingDue(user, room string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := [2]string{strings.ToLower(user), room}
	if now := time.Now(); now.Sub(p.typing[k]) >= typingQuiet {
		p.typing[k] = now
		return true
	}
	return false
}

// sentDM shows a direct message this client sent.
func (p *printer) sentDM(t time.Time, to, text string) {
	if p.json {
		p.notice("%s [dm] you → %s: %s", clock(t), to, clean(text))
		return
	}
	p.line("%s [dm] you → %s: %s", clock(t), to, clean(text))
}

// raw prints one JSON object on a line of its own.
func (p *printer) raw(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = p.out.Write(append(append([]byte(nil), b...), '\n'))
}

func (p *printer) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format+"\n", args...)
}

// notice prints a message of the client's own.
func (p *printer) notice(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.out
	if p.json || p.quiet {
		w = p.errw
	}
	fmt.Fprintf(w, "* "+format+"\n", args...)
}

// plain prints text as it is, where notices go.
func (p *printer) plain(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.out
	if p.json {
		w = p.errw
	}
	fmt.Fprintln(w, text)
}

// problem reports something that did not work.
func (p *printer) problem(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.errw, "! "+format+"\n", args...)
}

// clean makes text from other users safe to print on a terminal: control
// characters, which could move the cursor or rewrite earlier lines, are
// shown as escapes, and the lines after the first are indented so that
// they cannot pass for messages of their own.
func clean(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("\n    ")
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
