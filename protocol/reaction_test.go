package protocol_test

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/protocol"
)

func TestValidEmoji(t *testing.T) {
	tests := []struct {
		emoji string
		ok    bool
	}{
		{"👍", true},
		{"👍🏽", true},      // skin tone modifier
		{"👨‍👩‍👧", true},   // joined family
		{"❤️", true},      // variation selector
		{"🇫🇷", true},      // regional indicators
		{"🏴󠁧󠁢󠁳󠁣󠁴󠁿", true}, // subdivision flag with tags
		{":tada:", true},
		{":+1:", true},
		{"", false},
		{"a", false},
		{"👍 ", false},
		{"<b>", false},
		{":<b>:", false},
		{"::", false},
		{":Tada:", false},
		{":tada", false},
		{"\u200d", false}, // a joiner alone
		{"👍\n", false},
		{"é", false},
		{strings.Repeat("👍", 11), false}, // too many code points
		{":" + strings.Repeat("a", protocol.MaxEmojiLen) + ":", false},
		{"\xff", false},
	}
	for _, tc := range tests {
		if got := protocol.ValidEmoji(tc.emoji); got != tc.ok {
			t.Errorf("ValidEmoji(%q) = %v; want %v", tc.emoji, got, tc.ok)
		}
	}
}
