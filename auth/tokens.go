package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every login token chatd issues. It tells a login token
// from a JWT (which starts with "eyJ") and makes a leaked token easy to
// recognise, for people and for secret scanners alike.
const TokenPrefix = "chatd_"

// tokenBytes is the entropy of a login token: 256 bits, beyond guessing.
const tokenBytes = 32

// NewToken returns a new login token: the secret, to give the client once,
// and its hash, to store. The secret is TokenPrefix followed by 32 random
// bytes in unpadded base64url, so it holds only letters, digits, '-' and '_',
// which are valid both in an HTTP Authorization header and as a WebSocket
// subprotocol name.
func NewToken() (secret, hash string) {
	b := make([]byte, tokenBytes)
	// crypto/rand.Read never fails: since Go 1.24 it crashes the program
	// rather than return predictable bytes.
	rand.Read(b)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret)
}

// HashToken returns the hash under which the login token secret is stored:
// the hex SHA-256 of the whole secret, 64 characters. A fast hash is right
// here, unlike for passwords: the secret is 256 random bits, so there is
// nothing for an attacker holding the hash to guess, and every request that
// presents a token can afford to hash it.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// IsLoginToken reports whether s looks like a login token (it starts with
// TokenPrefix) rather than a JWT. It does not say whether the token is valid.
func IsLoginToken(s string) bool {
	return strings.HasPrefix(s, TokenPrefix)
}
