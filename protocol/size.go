package protocol

import (
	"strconv"
	"unicode/utf8"
)

// StringSize is the length of s encoded as a JSON string by AppendJSON,
// quotes included, computed without encoding it. It lets the server
// charge a sender for what its text costs every recipient, and size a
// reply, before anything is encoded.
func StringSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t' || b == '\b' || b == '\f':
				n += 2
			case b < 0x20:
				n += 6 // \u00XX
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6 // \ufffd for invalid bytes; line and paragraph separators
		default:
			n += size
		}
		i += size
	}
	return n
}

// MessageSize is the length of the text frame that carries m encoded by
// AppendJSON, frame header included.
func MessageSize(m *Message) int {
	n := len(`{"type":,"room":,"seq":,"from":,"ts":,"text":}`) +
		StringSize(m.Type) + StringSize(m.Room) + uintSize(m.Seq) + StringSize(m.From) +
		len(strconv.FormatInt(m.TS, 10)) + StringSize(m.Text)
	if m.ClientMsgID != "" {
		n += len(`,"client_msg_id":`) + StringSize(m.ClientMsgID)
	}
	if m.Target != 0 {
		n += len(`,"target":`) + uintSize(m.Target)
	}
	if m.Edited != 0 {
		n += len(`,"edited":`) + len(strconv.FormatInt(m.Edited, 10))
	}
	if m.Deleted {
		n += len(`,"deleted":true`)
	}
	if m.Emoji != "" {
		n += len(`,"emoji":`) + StringSize(m.Emoji)
	}
	if len(m.Reactions) > 0 {
		n += len(`,"reactions":[]`) + len(m.Reactions) - 1
		for _, r := range m.Reactions {
			n += len(`{"emoji":,"count":,"users":[]}`) + StringSize(r.Emoji) + len(strconv.Itoa(r.Count))
			for i, u := range r.Users {
				n += StringSize(u)
				if i > 0 {
					n++
				}
			}
		}
	}
	if m.ReplyTo != 0 {
		n += len(`,"reply_to":`) + uintSize(m.ReplyTo)
	}
	if m.Thread != 0 {
		n += len(`,"thread":`) + uintSize(m.Thread)
	}
	if m.AlsoRoom {
		n += len(`,"also_room":true`)
	}
	if m.Replies != 0 {
		n += len(`,"replies":`) + len(strconv.Itoa(m.Replies))
	}
	if m.LastReplySeq != 0 {
		n += len(`,"last_reply_seq":`) + uintSize(m.LastReplySeq)
	}
	if m.LastReplyTS != 0 {
		n += len(`,"last_reply_ts":`) + len(strconv.FormatInt(m.LastReplyTS, 10))
	}
	return n + frameHeaderSize(n)
}

func uintSize(u uint64) int { return len(strconv.FormatUint(u, 10)) }

// frameHeaderSize is the size of a server frame's header for a payload of
// n bytes.
func frameHeaderSize(n int) int {
	switch {
	case n < 126:
		return 2
	case n < 1<<16:
		return 4
	}
	return 10
}
