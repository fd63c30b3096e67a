package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. A Params value is plain data and
// safe to share.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
}

// DefaultParams are the parameters new hashes are made with: OWASP's
// recommended minimum for argon2id (m=19 MiB, t=2, p=1). They cost a login
// tens of milliseconds and 19 MiB while making each guess as expensive for an
// attacker holding the hashes, and one lane keeps a burst of logins from
// taking every core of a small chat server.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MinPasswordLen and MaxPasswordLen bound a new password's length in bytes.
// The upper bound is generous for passphrases yet keeps what one login asks
// the server to hash small.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

// The bounds CheckPassword accepts for a stored hash. A hash is data read back
// from the database, so a corrupt or planted row must not make the server
// allocate unbounded memory or spin for minutes; HashPassword enforces the
// same bounds so that it never writes a hash CheckPassword would refuse.
const (
	maxMemory  = 1 << 20 // KiB, that is 1 GiB
	maxTime    = 100
	minSalt    = 8
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
	saltLen    = 16
	keyLen     = 32
	hashPrefix = "$argon2id$"
)

// ValidatePassword reports whether pw is acceptable as a new password: valid
// UTF-8 of MinPasswordLen to MaxPasswordLen bytes. Its errors are written to
// be shown to the user.
func ValidatePassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return fmt.Errorf("password is too short: it must be at least %d bytes long", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("password is too long: it must be at most %d bytes long", MaxPasswordLen)
	case !utf8.ValidString(pw):
		return errors.New("password is not valid UTF-8 text")
	}
	return nil
}

// HashPassword hashes password with argon2id, a fresh random salt and the
// parameters p, and returns the PHC string to store. It fails only when p is
// out of the bounds CheckPassword accepts. It does not judge the password
// itself; use ValidatePassword for that when a password is chosen.
func HashPassword(password string, p Params) (string, error) {
	if err := p.check(); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	salt := make([]byte, saltLen)
	// crypto/rand.Read never fails: since Go 1.24 it crashes the program
	// rather than return predictable bytes.
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return encodeHash(p, salt, key), nil
}

// CheckPassword reports whether password matches encoded, a hash made by
// HashPassword. The hash's own parameters are used, so hashes made with
// earlier parameters keep working. A wrong password is (false, nil); an
// encoding that cannot be parsed or whose parameters are out of bounds is an
// error, and so is never a match.
func CheckPassword(encoded, password string) (bool, error) {
	h, err := decodeHash(encoded)
	if err != nil {
		return false, fmt.Errorf("auth: check password: %w", err)
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters or sizes other
// than p and this package's current ones, so that the caller should replace it
// with HashPassword(password, p) the next time the user logs in successfully.
// A hash that cannot be parsed needs rehashing too.
func NeedsRehash(encoded string, p Params) bool {
	h, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	return h.params != p || len(h.salt) != saltLen || len(h.key) != keyLen
}

// check reports whether p is within the bounds CheckPassword accepts.
func (p Params) check() error {
	switch {
	case p.Threads == 0:
		return errors.New("argon2id threads must be at least 1")
	case p.Time == 0 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d is outside 1..%d", p.Time, maxTime)
	// argon2id needs 8 KiB per lane; below that the library would silently
	// use more memory than the hash says it did.
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory %d KiB is outside %d..%d KiB", p.Memory, 8*uint32(p.Threads), maxMemory)
	}
	return nil
}

// encodeHash writes the PHC string the reference implementation writes.
func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", hashPrefix, argon2.Version,
		p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// decoded is a parsed PHC string.
type decoded struct {
	params    Params
	salt, key []byte
}

// b64 decodes PHC's base64: standard alphabet, no padding, and strict so
// that each hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// decodeHash parses a PHC string written by encodeHash, refusing anything
// else rather than guessing.
func decodeHash(encoded string) (decoded, error) {
	var h decoded
	rest, ok := strings.CutPrefix(encoded, hashPrefix)
	if !ok {
		return h, errors.New("not an argon2id hash")
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 4 {
		return h, errors.New("malformed argon2id hash: wrong number of fields")
	}
	if fields[0] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("unsupported argon2id version %q", fields[0])
	}
	var err error
	if h.params, err = parseParams(fields[1]); err != nil {
		return h, err
	}
	if err := h.params.check(); err != nil {
		return h, err
	}
	if h.salt, err = b64.DecodeString(fields[2]); err != nil {
		return h, fmt.Errorf("malformed argon2id salt: %w", err)
	}
	if len(h.salt) < minSalt || len(h.salt) > maxSalt {
		return h, fmt.Errorf("argon2id salt of %d bytes is outside %d..%d", len(h.salt), minSalt, maxSalt)
	}
	if h.key, err = b64.DecodeString(fields[3]); err != nil {
		return h, fmt.Errorf("malformed argon2id key: %w", err)
	}
	if len(h.key) < minKey || len(h.key) > maxKey {
		return h, fmt.Errorf("argon2id hash of %d bytes is outside %d..%d", len(h.key), minKey, maxKey)
	}
	return h, nil
}

// parseParams parses "m=<KiB>,t=<passes>,p=<lanes>", in that order.
func parseParams(s string) (Params, error) {
	var p Params
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return p, fmt.Errorf("malformed argon2id parameters %q", s)
	}
	m, err1 := parseParam(parts[0], "m=", 32)
	t, err2 := parseParam(parts[1], "t=", 32)
	l, err3 := parseParam(parts[2], "p=", 8)
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, fmt.Errorf("malformed argon2id parameters %q: %w", s, err)
	}
	return Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(l)}, nil
}

// parseParam parses one "name=value" parameter whose value fits in bits.
func parseParam(s, prefix string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, fmt.Errorf("want %q, got %q", prefix+"<n>", s)
	}
	return strconv.ParseUint(v, 10, bits)
}
