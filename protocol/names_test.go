package protocol_test

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/protocol"
)

func TestNames(t *testing.T) {
	rooms := map[string]string{"": "lobby", "Go": "go", "rust-lang.v2": "rust-lang.v2", strings.Repeat("r", 64): strings.Repeat("r", 64)}
	for in, want := range rooms {
		if got, err := protocol.NormalizeRoom(in); err != nil || got != want {
			t.Errorf("room %q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"a b", "-x", "é", "<b>", "a/b", strings.Repeat("r", 65), "al\u0456ce"} {
		if _, err := protocol.NormalizeRoom(bad); err == nil {
			t.Errorf("room %q accepted", bad)
		}
	}
	for _, good := range []string{"alice", "Bob_2", "x.y-z"} {
		if err := protocol.ValidateName(good); err != nil {
			t.Errorf("name %q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "al ice", "_x", strings.Repeat("n", 33), "аlice", "bob\u200b", "victim1.", "victim1_", "victim1-", "bob\u202e", "\u2066bob"} {
		if err := protocol.ValidateName(bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}
