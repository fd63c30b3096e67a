package auth_test

import (
	"regexp"
	"testing"

	"github.com/chatd/chatd/auth"
)

func TestNewToken(t *testing.T) {
	// 32 bytes are 43 base64url characters without padding; only
	// characters allowed in an HTTP token and a WebSocket subprotocol.
	secretRE := regexp.MustCompile(`^chatd_[A-Za-z0-9_-]{43}$`)
	hashRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	seen := make(map[string]bool)
	for range 100 {
		secret, hash := auth.NewToken()
		if !secretRE.MatchString(secret) {
			t.Fatalf("secret %q does not match %v", secret, secretRE)
		}
		if !hashRE.MatchString(hash) {
			t.Fatalf("hash %q is not 64 lowercase hex characters", hash)
		}
		if hash != auth.HashToken(secret) {
			t.Fatalf("NewToken hash %q != HashToken(secret) %q", hash, auth.HashToken(secret))
		}
		if !auth.IsLoginToken(secret) {
			t.Fatalf("IsLoginToken(%q) = false", secret)
		}
		if seen[secret] || seen[hash] {
			t.Fatalf("token repeated after %d tokens", len(seen)/2)
		}
		seen[secret], seen[hash] = true, true
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 of "chatd_test", from sha256sum: the hash must never change,
	// or every stored token stops working.
	const want = "a1043c79ea52dc2201a5b323c7e7d6b80ec4360380a487131bf8d91c18a77be8"
	got := auth.HashToken("chatd_test")
	if got != auth.HashToken("chatd_test") {
		t.Fatal("HashToken is not stable")
	}
	if got != want {
		t.Errorf("HashToken(%q) = %s, want %s", "chatd_test", got, want)
	}
	if auth.HashToken("chatd_test2") == got {
		t.Error("different secrets hash alike")
	}
}

func TestIsLoginToken(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"chatd_abc", true},
		{auth.TokenPrefix, true},
		{"eyJhbGciOiJIUzI1NiJ9.e30.sig", false},
		{"Chatd_abc", false},
		{"", false},
		{" chatd_abc", false},
	} {
		if got := auth.IsLoginToken(tc.s); got != tc.want {
			t.Errorf("IsLoginToken(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
	if auth.TokenPrefix != "chatd_" {
		t.Errorf("TokenPrefix = %q, want chatd_", auth.TokenPrefix)
	}
}
