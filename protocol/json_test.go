package protocol_test

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/protocol"
)

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
	}
	for _, tc := range cases {
		r, err := protocol.DecodeRequest([]byte(tc.in))
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
		`{"type":`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	codes := map[string]bool{
		protocol.CodeBadRequest: true, protocol.CodeUnknownType: true, protocol.CodeInvalidRoom: true,
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := protocol.DecodeRequest(in)
		if err != nil {
			if !codes[err.Code] || err.Message == "" {
				t.Fatalf("refusal %+v", err)
			}
			if len(r.ID) > protocol.MaxIDLen {
				t.Fatalf("refusal echoes an oversized id")
			}
			return
		}
		switch r.Type {
		case protocol.TypeSend:
			if r.Text == nil || r.Room == "" {
				t.Fatalf("accepted %+v", r)
			}
		case protocol.TypeDM:
			if r.Text == nil || r.To == "" {
				t.Fatalf("accepted %+v", r)
			}
		case protocol.TypeJoin, protocol.TypeLeave, protocol.TypeWho, protocol.TypeTyping, protocol.TypeHistory,
			protocol.TypeCreate, protocol.TypeMembers:
			if r.Room == "" {
				t.Fatalf("accepted %+v", r)
			}
		case protocol.TypeRead:
			if r.Room == "" || r.Seq == 0 {
				t.Fatalf("accepted %+v", r)
			}
		case protocol.TypeInvite, protocol.TypeRemove:
			if r.Room == "" || r.To == "" {
				t.Fatalf("accepted %+v", r)
			}
		case protocol.TypeAuth:
			if r.Token == "" || len(r.Token) > protocol.MaxTokenLen {
				t.Fatalf("accepted %+v", r)
			}
		case protocol.TypeRooms:
		default:
			t.Fatalf("accepted unknown type %q", r.Type)
		}
		if r.Room != "" {
			if norm, err := protocol.NormalizeRoom(r.Room); err != nil || norm != r.Room {
				t.Fatalf("accepted room %q", r.Room)
			}
		}
	})
}
