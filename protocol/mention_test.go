package protocol_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chatd/chatd/protocol"
)

func TestParseMentions(t *testing.T) {
	var many []string
	for i := range protocol.MaxMentions + 5 {
		many = append(many, fmt.Sprintf("@u%d", i))
	}
	tests := []struct {
		text string
		want []string
	}{
		{"hi @bob", []string{"bob"}},
		{"@alice and @Bob, @bob again", []string{"alice", "Bob"}},
		{"thanks @bob.", []string{"bob"}},
		{"@bob_: see @carol-", []string{"bob", "carol"}},
		{"@bob.smith.", []string{"bob.smith"}},
		{"(@bob)", []string{"bob"}},
		{"mail bob@example.com", nil},
		{"@@bob", []string{"bob"}},
		{"@ bob", nil},
		{"@-bob", nil},
		{"@" + strings.Repeat("a", protocol.MaxNameLen+1), nil},
		{"ï@bob", []string{"bob"}}, // ï is not a name character
		{"", nil},
		{strings.Join(many, " "), nil}, // checked below: the first MaxMentions
	}
	for _, tc := range tests {
		got := protocol.ParseMentions(tc.text)
		if strings.HasPrefix(tc.text, "@u0 ") {
			if len(got) != protocol.MaxMentions || got[0] != "u0" {
				t.Errorf("ParseMentions of %d names = %v; want the first %d", len(many), got, protocol.MaxMentions)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseMentions(%q) = %q; want %q", tc.text, got, tc.want)
		}
	}
}
