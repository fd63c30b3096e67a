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

// FuzzParseMentions: every name found is a valid name that follows an '@'
// in the text, found once, and there are at most MaxMentions.
func FuzzParseMentions(f *testing.F) {
	for _, s := range []string{"hi @bob", "@Bob @bob @carol.", "a@b.c", "@@x_ @y-1-", "@é @" + strings.Repeat("z", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		names := protocol.ParseMentions(text)
		if len(names) > protocol.MaxMentions {
			t.Fatalf("%d names", len(names))
		}
		seen := map[string]bool{}
		for _, n := range names {
			if protocol.ValidateName(n) != nil || !strings.Contains(text, "@"+n) || seen[strings.ToLower(n)] {
				t.Fatalf("ParseMentions(%q) gave %q", text, n)
			}
			seen[strings.ToLower(n)] = true
		}
	})
}
