package protocol

import (
	"unicode"
	"unicode/utf8"
)

// Limits on reactions. A message carries at most MaxReactionEmojis
// distinct emoji, and one user gives at most MaxUserReactions of them to
// one message; ReactionUsersListed bounds the users a message's reaction
// names (its Count is exact), so that a popular message stays small.
const (
	MaxReactionEmojis   = 20
	MaxUserReactions    = 5
	ReactionUsersListed = 20
	// MaxEmojiLen bounds an emoji in bytes: a :name: or a Unicode emoji
	// sequence (a family or a flag with its joiners and modifiers).
	MaxEmojiLen = 32
	// maxEmojiRunes bounds a Unicode emoji's code points.
	maxEmojiRunes = 10
)

// Reaction is one emoji given to a message: how many users gave it, and
// up to ReactionUsersListed of them, in the order they did.
type Reaction struct {
	Emoji string   `json:"emoji"`
	Count int      `json:"count"`
	Users []string `json:"users"`
}

// ValidEmoji reports whether s may be a reaction: either a short name
// between colons (":tada:", of a-z, 0-9, '_', '+' and '-'), or a short
// sequence of Unicode symbols with the joiners, variation selectors,
// modifiers and tags that make up one emoji. Neither form can hold
// markup, spaces or control characters, so a client can show it as is.
func ValidEmoji(s string) bool {
	if len(s) == 0 || len(s) > MaxEmojiLen || !utf8.ValidString(s) {
		return false
	}
	if len(s) >= 3 && s[0] == ':' && s[len(s)-1] == ':' {
		for _, b := range []byte(s[1 : len(s)-1]) {
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_' || b == '+' || b == '-') {
				return false
			}
		}
		return true
	}
	symbol := false
	for i, r := range []rune(s) {
		switch {
		case i >= maxEmojiRunes:
			return false
		case unicode.Is(unicode.So, r):
			symbol = true
		case unicode.In(r, unicode.Sk, unicode.Mn, unicode.Me),
			r == '\u200d',                          // zero-width joiner
			'\U000e0020' <= r && r <= '\U000e007f': // tags of subdivision flags
		default:
			return false
		}
	}
	return symbol
}

// Reactions is the state of message Target's reactions after the
// reactions with sequence numbers First to Seq, sent in their place when
// several reached the room together. A client replaces the target's
// reactions with Reactions (empty: none) and takes Seq as the room's
// position; the reactions it covers have no events of their own.
type Reactions struct {
	Type      string     `json:"type"`
	Room      string     `json:"room"`
	Seq       uint64     `json:"seq"`
	First     uint64     `json:"first"`
	TS        int64      `json:"ts"` // milliseconds since the Unix epoch: when the last reaction was sent
	Target    uint64     `json:"target"`
	Reactions []Reaction `json:"reactions"`
}
