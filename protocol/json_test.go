package protocol_test

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/protocol"
)

// chatdNeeds is what chatd's server declares for its request types (the
// server's table is the source; this copy gives the decoder realistic
// input).
var chatdNeeds = map[string]protocol.Needs{
	protocol.TypeJoin:     protocol.NeedsRoom | protocol.NeedsRange,
	protocol.TypeLeave:    protocol.NeedsRoom | protocol.NeedsRange,
	protocol.TypeWho:      protocol.NeedsRoom | protocol.NeedsRange,
	protocol.TypeTyping:   protocol.NeedsRoom | protocol.NeedsRange,
	protocol.TypeHistory:  protocol.NeedsRoom | protocol.NeedsRange,
	protocol.TypeCreate:   protocol.NeedsRoom | protocol.NeedsRange,
	protocol.TypeMembers:  protocol.NeedsRoom | protocol.NeedsRange,
	protocol.TypeSend:     protocol.NeedsRoom | protocol.NeedsText,
	protocol.TypeDM:       protocol.NeedsTo | protocol.NeedsText,
	protocol.TypeRead:     protocol.NeedsRoom | protocol.NeedsSeq,
	protocol.TypeInvite:   protocol.NeedsRoom | protocol.NeedsTo,
	protocol.TypeRemove:   protocol.NeedsRoom | protocol.NeedsTo,
	protocol.TypeAuth:     protocol.NeedsToken,
	protocol.TypeRooms:    0,
	protocol.TypeEdit:     protocol.NeedsRoom | protocol.NeedsTarget | protocol.NeedsText,
	protocol.TypeDelete:   protocol.NeedsRoom | protocol.NeedsTarget,
	protocol.TypeReact:    protocol.NeedsRoom | protocol.NeedsTarget | protocol.NeedsEmoji,
	protocol.TypeUnreact:  protocol.NeedsRoom | protocol.NeedsTarget | protocol.NeedsEmoji,
	protocol.TypeMentions: protocol.NeedsRange,
	protocol.TypeSearch:   0,
}

func needsOf(typ string) (protocol.Needs, bool) {
	n, ok := chatdNeeds[typ]
	return n, ok
}

func TestDecodeRequest(t *testing.T) {
	cases := []struct {
		in   string
		code string // "" for success
		room string
	}{
		{`{"type":"join","room":"Go"}`, "", "go"},
		{`{"type":"send","room":"go","text":"hi","extra":true}`, "", "go"},
		{`{"type":"rooms"}`, "", ""},
		{`{"type":"dm","to":"bob","text":""}`, "", ""},
		{`{"type":"send","room":"go"}`, protocol.CodeBadRequest, ""},
		{`{"type":"send","room":"go","text":null}`, protocol.CodeBadRequest, ""},
		{`{"type":"join","room":7}`, protocol.CodeBadRequest, ""},
		{`{"type":"join","room":"a b"}`, protocol.CodeInvalidRoom, ""},
		{`{"type":"nope"}`, protocol.CodeUnknownType, ""},
		{`{}`, protocol.CodeBadRequest, ""},
		{`null`, protocol.CodeBadRequest, ""},
		{``, protocol.CodeBadRequest, ""},
		{`{"type":"rooms"} x`, protocol.CodeBadRequest, ""},
		{`{"type":"rooms","client_msg_id":"` + strings.Repeat("x", 65) + `"}`, protocol.CodeBadRequest, ""},
		{`{"type":"create","room":"Team","private":true}`, "", "team"},
		{`{"type":"create"}`, protocol.CodeBadRequest, ""},
		{`{"type":"invite","room":"team","to":"bob"}`, "", "team"},
		{`{"type":"invite","room":"team"}`, protocol.CodeBadRequest, ""},
		{`{"type":"remove","to":"bob"}`, protocol.CodeBadRequest, ""},
		{`{"type":"members","room":"team"}`, "", "team"},
		{`{"type":"auth","token":"chatd_x"}`, "", ""},
		{`{"type":"auth"}`, protocol.CodeBadRequest, ""},
		{`{"type":"auth","token":"` + strings.Repeat("x", protocol.MaxTokenLen+1) + `"}`, protocol.CodeBadRequest, ""},
		{`{"type":"join","room":"go","history":-1}`, protocol.CodeBadRequest, ""},
		{`{"type":"history","room":"go","before":9,"after":1}`, protocol.CodeBadRequest, ""},
		{`{"type":"send","room":"go","text":"hi","limit":-1}`, "", "go"},
		{`{"type":"read","room":"go"}`, protocol.CodeBadRequest, ""},
		{`{"type":"rooms","room":"a b"}`, protocol.CodeInvalidRoom, ""},
	}
	for _, tc := range cases {
		r, err := protocol.DecodeRequest([]byte(tc.in), needsOf)
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case tc.code != "" && (err == nil || err.Code != tc.code):
			t.Errorf("%s: got %v, want %s", tc.in, err, tc.code)
		case tc.code == "" && r.Room != tc.room:
			t.Errorf("%s: room %q, want %q", tc.in, r.Room, tc.room)
		}
	}
}

// FuzzDecodeRequest checks that no input panics the decoder, that every
// refusal carries a known code and a message, and that every accepted
// request is one the server can act on without further checks.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","id":"1","room":"golang"}`,
		`{"type":"send","id":"2","room":"golang","text":"hello","client_msg_id":"c1"}`,
		`{"type":"dm","to":"bob","text":"hi"}`,
		`{"type":"rooms"}`,
		`{"type":"who","room":"x"}`,
		`{"type":"typing","room":"x"}`,
		`{"type":"leave","room":"x"}`,
		`{"type":"create","room":"x","private":true}`,
		`{"type":"invite","room":"x","to":"bob"}`,
		`{"type":"auth","id":"9","token":"chatd_abc"}`,
		`{"type":"send","room":"go","text":42}`,
		`{"type":"edit","room":"go","target":41,"text":"fixed","client_msg_id":"e1"}`,
		`{"type":"delete","room":"go","target":41}`,
		`{"type":"delete","room":"go","target":-1}`,
		`{"type":"react","room":"go","target":41,"emoji":"👍🏽","client_msg_id":"r1"}`,
		`{"type":"unreact","room":"go","target":41,"emoji":":tada:"}`,
		`{"type":"react","room":"go","target":41,"emoji":"<img>"}`,
		`{"type":"mentions","limit":20,"cursor":"812"}`,
		`{"type":"mentions","limit":-1}`,
		`{"type":"search","id":"s","q":"deploy fri*","room":"ops","from":"bob","after":1795600000000,"before":1795700000000,"order":"best","limit":20,"cursor":"n123"}`,
		`{"type":"search","q":"\"x\" OR NEAR(y) *"}`,
		`{"type":"history","room":"go","around":41,"limit":11}`,
		`{"type":"history","room":"go","around":41,"before":50}`,
		`{"type":"send","room":"go","text":"agreed","reply_to":41,"client_msg_id":"p1"}`,
		`{"type":"send","room":"go","text":"how so?","thread":41,"also_room":true,"reply_to":43}`,
		`{"type":"send","room":"go","text":"x","reply_to":41,"also_room":true}`,
		`{"type":"history","room":"go","thread":41,"before":60,"limit":20}`,
		`{"type":"send","room":"go","text":"x","thread":-1}`,
		`{"type":`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	codes := map[string]bool{
		protocol.CodeBadRequest: true, protocol.CodeUnknownType: true, protocol.CodeInvalidRoom: true,
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := protocol.DecodeRequest(in, needsOf)
		if err != nil {
			if !codes[err.Code] || err.Message == "" {
				t.Fatalf("refusal %+v", err)
			}
			if len(r.ID) > protocol.MaxIDLen {
				t.Fatalf("refusal echoes an oversized id")
			}
			return
		}
		n, ok := chatdNeeds[r.Type]
		if !ok {
			t.Fatalf("accepted unknown type %q", r.Type)
		}
		has := func(x protocol.Needs) bool { return n&x != 0 }
		switch {
		case has(protocol.NeedsRoom) && r.Room == "",
			has(protocol.NeedsRange) && (r.History != nil && *r.History < 0 || r.Limit < 0 || r.Before > 0 && r.After != nil ||
				r.Around > 0 && (r.Before > 0 || r.After != nil)),
			has(protocol.NeedsTo) && r.To == "",
			has(protocol.NeedsText) && r.Text == nil,
			has(protocol.NeedsSeq) && r.Seq == 0,
			has(protocol.NeedsTarget) && r.Target == 0,
			has(protocol.NeedsEmoji) && !protocol.ValidEmoji(r.Emoji),
			r.AlsoRoom && r.Thread == 0,
			has(protocol.NeedsToken) && (r.Token == "" || len(r.Token) > protocol.MaxTokenLen):
			t.Fatalf("accepted %+v", r)
		}
		if r.Room != "" {
			if norm, err := protocol.NormalizeRoom(r.Room); err != nil || norm != r.Room {
				t.Fatalf("accepted room %q", r.Room)
			}
		}
	})
}
