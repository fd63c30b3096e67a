package auth_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chatd/chatd/auth"
)

// cheap keeps argon2id fast under -race; only TestDefaultParams pays for
// the real parameters.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func mustHash(t *testing.T, pw string, p auth.Params) string {
	t.Helper()
	h, err := auth.HashPassword(pw, p)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	return h
}

func TestHashAndCheckPassword(t *testing.T) {
	h := mustHash(t, "correct horse", cheap)
	if !phc.MatchString(h) || !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not the expected PHC string", h)
	}
	if h2 := mustHash(t, "correct horse", cheap); h2 == h {
		t.Error("two hashes of one password are equal: salt is not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse", true},
		{"correct horse ", false},
		{"Correct horse", false},
		{"", false},
	} {
		ok, err := auth.CheckPassword(h, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("CheckPassword(h, %q) = %v, %v; want %v, nil", tc.pw, ok, err, tc.want)
		}
	}
}

func TestDefaultParams(t *testing.T) {
	if want := (auth.Params{Memory: 19456, Time: 2, Threads: 1}); auth.DefaultParams != want {
		t.Fatalf("DefaultParams = %+v, want OWASP's %+v", auth.DefaultParams, want)
	}
	h := mustHash(t, "correct horse", auth.DefaultParams)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || !phc.MatchString(h) {
		t.Fatalf("hash %q is not the expected PHC string", h)
	}
	if ok, err := auth.CheckPassword(h, "correct horse"); !ok || err != nil {
		t.Fatalf("CheckPassword = %v, %v; want true, nil", ok, err)
	}
	if auth.NeedsRehash(h, auth.DefaultParams) {
		t.Error("NeedsRehash of a fresh default hash = true")
	}
}

// TestCheckPasswordReference checks hashes written by the reference
// implementation's argon2 command, so that the encoding stays compatible.
func TestCheckPasswordReference(t *testing.T) {
	for _, tc := range []struct{ hash, pw string }{
		// echo -n "correct horse battery staple" | argon2 saltsaltsaltsalt -id -t 2 -k 64 -p 1 -l 32 -e
		{"$argon2id$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$08SGGcDJOWTOHrI9opI1oxYYPVyI3Xbz6vQjWzSpV7w", "correct horse battery staple"},
		// ... -id -t 1 -k 256 -p 2 -l 32 -e
		{"$argon2id$v=19$m=256,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$pSf+11KNq9kAW/9QmaMaNfvC/RrTAMeIWtgH/6Zrcps", "correct horse battery staple"},
		// echo -n "pässwörd ünïcode" | argon2 0123456789abcdef -id -t 3 -k 128 -p 1 -l 16 -e
		{"$argon2id$v=19$m=128,t=3,p=1$MDEyMzQ1Njc4OWFiY2RlZg$YdX/9aj5gxV98Jjy+O1yYw", "pässwörd ünïcode"},
	} {
		if ok, err := auth.CheckPassword(tc.hash, tc.pw); !ok || err != nil {
			t.Errorf("CheckPassword(%q, %q) = %v, %v; want true, nil", tc.hash, tc.pw, ok, err)
		}
		if ok, err := auth.CheckPassword(tc.hash, tc.pw+"x"); ok || err != nil {
			t.Errorf("CheckPassword(%q, wrong) = %v, %v; want false, nil", tc.hash, ok, err)
		}
	}
}

func TestCheckPasswordOtherParams(t *testing.T) {
	// Hashes made before a change of parameters must keep verifying.
	for _, p := range []auth.Params{
		{Memory: 64, Time: 1, Threads: 1},
		{Memory: 128, Time: 3, Threads: 2},
		{Memory: 256, Time: 2, Threads: 4},
	} {
		h := mustHash(t, "old password", p)
		if ok, err := auth.CheckPassword(h, "old password"); !ok || err != nil {
			t.Errorf("params %+v: CheckPassword = %v, %v; want true, nil", p, ok, err)
		}
		if auth.NeedsRehash(h, p) {
			t.Errorf("params %+v: NeedsRehash with the same params = true", p)
		}
		if !auth.NeedsRehash(h, auth.DefaultParams) {
			t.Errorf("params %+v: NeedsRehash with DefaultParams = false", p)
		}
	}
}

func TestCheckPasswordTampered(t *testing.T) {
	// A well-formed hash whose salt or key changed cannot be told from a
	// wrong password; it must simply never match.
	h := mustHash(t, "correct horse", cheap)
	fields := strings.Split(h, "$")
	salt, key := fields[4], fields[5]
	for name, enc := range map[string]string{
		"salt": strings.Replace(h, salt, flipFirst(salt), 1),
		"key":  strings.Replace(h, key, flipFirst(key), 1),
	} {
		if ok, err := auth.CheckPassword(enc, "correct horse"); ok || err != nil {
			t.Errorf("tampered %s: CheckPassword = %v, %v; want false, nil", name, ok, err)
		}
	}
}

// flipFirst changes the first character of a base64 string to another
// base64 character.
func flipFirst(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

func TestCheckPasswordMalformed(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA" // 16 bytes
	const key = "08SGGcDJOWTOHrI9opI1oxYYPVyI3Xbz6vQjWzSpV7w"
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=2,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=2,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=64,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=2,p=1$" + salt + "$" + key},
		{"missing key", "$argon2id$v=19$m=64,t=2,p=1$" + salt},
		{"extra field", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key + "$"},
		{"params reordered", "$argon2id$v=19$t=2,m=64,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=64,t=2$" + salt + "$" + key},
		{"params extra", "$argon2id$v=19$m=64,t=2,p=1,k=1$" + salt + "$" + key},
		{"params not numbers", "$argon2id$v=19$m=x,t=2,p=1$" + salt + "$" + key},
		{"params signed", "$argon2id$v=19$m=+64,t=2,p=1$" + salt + "$" + key},
		{"threads overflow uint8", "$argon2id$v=19$m=4096,t=2,p=256$" + salt + "$" + key},
		{"memory overflow uint32", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=64,t=2,p=1$c2Fs*HNhbHRzYWx0c2FsdA$" + key},
		{"salt padded", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "==$" + key},
		{"salt too short", "$argon2id$v=19$m=64,t=2,p=1$c2FsdA$" + key},
		{"key not base64", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key[:10] + "-" + key[11:]},
		{"key too short", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$c2FsdHNhbHQ"},
		{"leading space", " $argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key},
		// Out of bounds: a bad row must not make the server allocate or
		// compute without limit.
		{"memory above 1 GiB", "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key},
		{"memory huge", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key},
		{"memory below 8 KiB per lane", "$argon2id$v=19$m=31,t=2,p=4$" + salt + "$" + key},
		{"time zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"time above 100", "$argon2id$v=19$m=64,t=101,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=64,t=2,p=0$" + salt + "$" + key},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := auth.CheckPassword(tc.enc, "correct horse battery staple")
			if err == nil || ok {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false and an error", tc.enc, ok, err)
			}
			if !auth.NeedsRehash(tc.enc, cheap) {
				t.Errorf("NeedsRehash(%q) = false for an unusable hash", tc.enc)
			}
		})
	}
}

func TestHashPasswordParamsOutOfBounds(t *testing.T) {
	for _, p := range []auth.Params{
		{},
		{Memory: 64, Time: 1, Threads: 0},
		{Memory: 64, Time: 0, Threads: 1},
		{Memory: 64, Time: 101, Threads: 1},
		{Memory: 1<<20 + 1, Time: 1, Threads: 1},
		{Memory: 7, Time: 1, Threads: 1},
		{Memory: 64, Time: 1, Threads: 9},
	} {
		if h, err := auth.HashPassword("correct horse", p); err == nil {
			t.Errorf("HashPassword with %+v = %q, nil; want an error", p, h)
		}
	}
	// The bounds are inclusive.
	if _, err := auth.HashPassword("correct horse", auth.Params{Memory: 8, Time: 1, Threads: 1}); err != nil {
		t.Errorf("HashPassword with the smallest params: %v", err)
	}
}

func TestNeedsRehash(t *testing.T) {
	h := mustHash(t, "correct horse", cheap)
	for _, tc := range []struct {
		p    auth.Params
		want bool
	}{
		{cheap, false},
		{auth.Params{Memory: 128, Time: 1, Threads: 1}, true},
		{auth.Params{Memory: 64, Time: 2, Threads: 1}, true},
		{auth.Params{Memory: 64, Time: 1, Threads: 2}, true},
		{auth.DefaultParams, true},
	} {
		if got := auth.NeedsRehash(h, tc.p); got != tc.want {
			t.Errorf("NeedsRehash(m=64,t=1,p=1 hash, %+v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	// Same params but a 16-byte key, as another tool may write: rehash to
	// this package's sizes.
	ref := "$argon2id$v=19$m=128,t=3,p=1$MDEyMzQ1Njc4OWFiY2RlZg$YdX/9aj5gxV98Jjy+O1yYw"
	if !auth.NeedsRehash(ref, auth.Params{Memory: 128, Time: 3, Threads: 1}) {
		t.Error("NeedsRehash of a 16-byte key = false")
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name    string
		pw      string
		wantErr string
	}{
		{"empty", "", "too short"},
		{"7 bytes", "1234567", "too short"},
		{"8 bytes", "12345678", ""},
		{"3 two-byte runes", "ééé", "too short"},
		{"4 two-byte runes", "éééé", ""},
		{"max", strings.Repeat("a", auth.MaxPasswordLen), ""},
		{"max+1", strings.Repeat("a", auth.MaxPasswordLen+1), "too long"},
		{"invalid UTF-8", "password\xff", "UTF-8"},
		{"spaces count", "        ", ""},
	}
	if auth.MinPasswordLen != 8 || auth.MaxPasswordLen != 1024 {
		t.Fatalf("bounds = %d..%d, want 8..1024", auth.MinPasswordLen, auth.MaxPasswordLen)
	}
	for _, tc := range tests {
		err := auth.ValidatePassword(tc.pw)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: ValidatePassword = %v, want nil", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: ValidatePassword = %v, want an error containing %q", tc.name, err, tc.wantErr)
		}
	}
}
