package protocol

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultRoom is the room a plain client joins when it names none.
const DefaultRoom = "lobby"

// Length limits for names, in bytes (names are ASCII).
const (
	MaxRoomLen = 64
	MaxNameLen = 32
)

// ErrInvalidName reports a room or user name that chatd does not accept.
var ErrInvalidName = errors.New("invalid name")

// NormalizeRoom validates a room name and returns its canonical form.
// Room names are case-insensitive, so "Go" and "go" are the same room; the
// canonical form is lower case. An empty name means DefaultRoom.
func NormalizeRoom(s string) (string, error) {
	if s == "" {
		return DefaultRoom, nil
	}
	if err := checkName(s, MaxRoomLen); err != nil {
		return "", fmt.Errorf("room %q: %w", s, err)
	}
	return strings.ToLower(s), nil
}

// ValidateName checks a user's display name. Names keep the case the user
// chose; comparisons for uniqueness are done on strings.ToLower(name).
// Besides the characters rooms allow, a name must end with a letter or
// digit: "victim1." or "victim1_" would pass for "victim1" at the end of a
// sentence or in a list.
func ValidateName(s string) error {
	if err := checkName(s, MaxNameLen); err != nil {
		return fmt.Errorf("name %q: %w", s, err)
	}
	if !isAlnum(s[len(s)-1]) {
		return fmt.Errorf("name %q: %w: must end with a letter or digit", s, ErrInvalidName)
	}
	return nil
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// checkName allows ASCII letters, digits, '-', '_' and '.', starting with a
// letter or digit. Keeping names to this set rules out look-alike characters,
// invisible characters and anything that needs escaping in a URL or a log.
func checkName(s string, maxLen int) error {
	if len(s) == 0 || len(s) > maxLen {
		return fmt.Errorf("%w: must be 1 to %d characters", ErrInvalidName, maxLen)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case (b == '-' || b == '_' || b == '.') && i > 0:
		default:
			return fmt.Errorf("%w: use letters, digits, '-', '_' and '.', starting with a letter or digit", ErrInvalidName)
		}
	}
	return nil
}
