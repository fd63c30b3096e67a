package protocol

import "strings"

// Limits on mentions. A message notifies at most MaxMentions users: the
// first names it gives. A welcome lists at most UnreadMentionsListed
// unread mentions per room, the newest. A mentions reply holds at most
// MaxMentionsPage messages, MentionsPage when the request gives no limit.
const (
	MaxMentions          = 20
	UnreadMentionsListed = 100
	MentionsPage         = 50
	MaxMentionsPage      = 100
)

// Mention types: the request that lists the user's mentions, and the
// event that tells a user of a new one.
const (
	TypeMentions = "mentions"
	TypeMention  = "mention"
	// TypeUnmention tells a user that a message no longer mentions them.
	TypeUnmention = "unmention"
)

// Unmention tells a user that message Target of Room no longer mentions
// them: Seq (with From and TS) is the delete, or the edit that took their
// name out. Mention is the seq of the mention event that told them, as
// the welcome's unread mentions list it: a client drops it from the
// room's unread mentions.
type Unmention struct {
	Type    string `json:"type"`
	Room    string `json:"room"`
	Seq     uint64 `json:"seq"`
	From    string `json:"from"`
	TS      int64  `json:"ts"` // milliseconds since the Unix epoch
	Target  uint64 `json:"target"`
	Mention uint64 `json:"mention"`
}

// ParseMentions returns the user names text mentions, in the order given,
// each once (compared case-insensitively), at most MaxMentions of them. A
// mention is '@' followed by a valid user name (see ValidateName), with no
// letter, digit or name character just before the '@', so that an e-mail
// address mentions nobody; name characters that a name cannot end with
// ("@bob." at the end of a sentence) are not part of it.
func ParseMentions(text string) []string {
	var names []string
	for i := 0; i < len(text) && len(names) < MaxMentions; i++ {
		if text[i] != '@' || i > 0 && isNameByte(text[i-1]) {
			continue
		}
		j := i + 1
		for j < len(text) && isNameByte(text[j]) {
			j++
		}
		end := j
		for end > i+1 && !isAlnum(text[end-1]) {
			end--
		}
		name := text[i+1 : end]
		i = j - 1
		if ValidateName(name) != nil || containsFold(names, name) {
			continue
		}
		names = append(names, name)
	}
	return names
}

func isNameByte(b byte) bool { return isAlnum(b) || b == '-' || b == '_' || b == '.' }

func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
