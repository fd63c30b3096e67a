package natsbus

import "encoding/base64"

// subjectPrefix starts every room's subject.
const subjectPrefix = "chatd.room."

// subject is room's subject. A room name may hold '.', a NATS token
// separator, and other characters a subject must not; URL-safe base64
// without padding has none of them ('.', '*', '>', whitespace).
func subject(room string) string {
	return subjectPrefix + base64.RawURLEncoding.EncodeToString([]byte(room))
}
