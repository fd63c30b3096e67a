package protocol

// CloseCode is a WebSocket close status code (RFC 6455 section 7.4). It is
// a plain number so that clients can compare codes without importing the
// WebSocket library the server uses.
type CloseCode uint16

// Close codes chatd sends, with the advice each one carries for the client.
const (
	// CloseNormal: the client asked to close, or finished cleanly.
	CloseNormal CloseCode = 1000
	// CloseGoingAway: the server is shutting down; reconnect later.
	CloseGoingAway CloseCode = 1001
	// CloseProtocolError: the client broke RFC 6455 framing; do not retry as is.
	CloseProtocolError CloseCode = 1002
	// CloseUnsupportedData: the client sent a binary message.
	CloseUnsupportedData CloseCode = 1003
	// CloseInvalidPayload: a text message was not valid UTF-8.
	CloseInvalidPayload CloseCode = 1007
	// ClosePolicyViolation: the client broke a server policy.
	ClosePolicyViolation CloseCode = 1008
	// CloseMessageTooBig: a message exceeded the server's size limit.
	CloseMessageTooBig CloseCode = 1009
	// CloseInternalError: the server failed (its history store); reconnect later.
	CloseInternalError CloseCode = 1011
	// CloseTryAgainLater: the client did not read fast enough and its
	// outbound queue overflowed (a slow consumer); reconnect.
	CloseTryAgainLater CloseCode = 1013
	// CloseUnauthorized: the connection's token expired or was revoked
	// (logout, password change); sign in again, then reconnect.
	CloseUnauthorized CloseCode = 4001
	// CloseNameClaimed: a guest's name belongs to a signed-in user (an
	// account or a JWT user), who has just connected; the guest loses it.
	// Reconnect with another name.
	CloseNameClaimed CloseCode = 4002
)
