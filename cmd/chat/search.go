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

const searchUsage = "usage: /search [room:ROOM] [from:USER] [after:DATE] [before:DATE] [best] WORDS (DATE: 2006-01-02 or 2006-01-02T15:04)"

// parseSearch reads /search's arguments: filters of the form key:value
// and the word best anywhere among the words searched for.
func parseSearch(rest string) (client.Search, error) {
	var (
		s     client.Search
		words []string
	)
	for _, f := range strings.Fields(rest) {
		key, val, ok := strings.Cut(f, ":")
		switch {
		case f == "best":
			s.Best = true
		case ok && key == "room":
			s.Room = val
		case ok && key == "from":
			s.From = val
		case ok && (key == "after" || key == "before"):
			t, err := parseDate(val)
			if err != nil {
				return s, err
			}
			if key == "after" {
				s.After = t
			} else {
				s.Before = t
			}
		default:
			words = append(words, f)
		}
	}
	s.Q = strings.Join(words, " ")
	if s.Q == "" {
		return s, fmt.Errorf("no words to search for")
	}
	return s, nil
}

func parseDate(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", v)
}

// search runs /search (rest: its arguments) or, with more, the next page
// of the last search.
func (a *app) search(ctx context.Context, rest string, more bool) {
	s := a.lastSearch
	if more {
		if s.Cursor == "" {
			a.out.problem("no more hits; /search WORDS searches again")
			return
		}
	} else {
		var err error
		if s, err = parseSearch(rest); err != nil {
			a.out.problem("%v; %s", err, searchUsage)
			return
		}
	}
	page, err := a.cl.Search(ctx, s)
	if err != nil {
		a.out.problem("search: %v", err)
		return
	}
	for _, h := range page.Hits {
		a.out.line("%s", hitLine(&h))
	}
	s.Cursor = page.Next
	a.lastSearch = s
	switch {
	case page.Next != "":
		a.out.notice("more hits: /more; /around ROOM SEQ shows a hit in its room")
	case len(page.Hits) == 0 && !more:
		a.out.notice("nothing found")
	}
}

// hitLine is a search hit as messageLine shows a message, its matched
// words between asterisks.
func hitLine(h *protocol.SearchHit) string {
	text := []rune(h.Text)
	var b strings.Builder
	at := 0
	for _, m := range h.Marks {
		if m[0] < at || m[1] > len(text) || m[0] > m[1] {
			continue
		}
		b.WriteString(string(text[at:m[0]]) + "*" + string(text[m[0]:m[1]]) + "*")
		at = m[1]
	}
	b.WriteString(string(text[at:]))
	line := fmt.Sprintf("#%d %s [%s] %s: %s", h.Seq, clock(time.UnixMilli(h.TS)), h.Room, clean(h.From), clean(b.String()))
	if h.Edited != 0 {
		line += " (edited)"
	}
	return line
}

// around shows the messages around message SEQ of ROOM (rest: "ROOM
// SEQ", or "SEQ" in the current room).
func (a *app) around(ctx context.Context, rest string) {
	room, arg, ok := strings.Cut(rest, " ")
	if !ok {
		room, arg = a.current, rest
	}
	seq, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(arg), "#"), 10, 64)
	if err != nil || seq == 0 || room == "" {
		a.out.problem("usage: /around [ROOM] SEQ")
		return
	}
	msgs, _, err := a.cl.Around(ctx, room, seq, 11)
	if err != nil {
		a.out.problem("around #%d: %v", seq, err)
		return
	}
	for _, m := range msgs {
		mark := "  "
		if m.Seq == seq {
			mark = "> "
		}
		a.out.line("%s%s", mark, messageLine(&m))
	}
}
