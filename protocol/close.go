package protocol

import (
	"errors"
	"fmt"

	"github.com/gobwas/ws"
)

// Close codes chatd sends, with the advice each one carries for the client.
const (
	// CloseNormal: the client asked to close, or finished cleanly.
	CloseNormal = ws.StatusNormalClosure // 1000
	// CloseGoingAway: the server is shutting down; reconnect later.
	CloseGoingAway = ws.StatusGoingAway // 1001
	// CloseProtocolError: the client broke RFC 6455 framing; do not retry as is.
	CloseProtocolError = ws.StatusProtocolError // 1002
	// CloseUnsupportedData: the client sent a binary message.
	CloseUnsupportedData = ws.StatusUnsupportedData // 1003
	// CloseInvalidPayload: a text message was not valid UTF-8.
	CloseInvalidPayload = ws.StatusInvalidFramePayloadData // 1007
	// ClosePolicyViolation: the client broke a server policy.
	ClosePolicyViolation = ws.StatusPolicyViolation // 1008
	// CloseMessageTooBig: a message exceeded the server's size limit.
	CloseMessageTooBig = ws.StatusMessageTooBig // 1009
	// CloseInternalError: the server failed (its history store); reconnect later.
	CloseInternalError = ws.StatusInternalServerError // 1011
	// CloseTryAgainLater: the client did not read fast enough and its
	// outbound queue overflowed (a slow consumer); reconnect.
	CloseTryAgainLater = ws.StatusCode(1013)
	// CloseUnauthorized: the connection's token expired or was revoked
	// (logout, password change); sign in again, then reconnect.
	CloseUnauthorized = ws.StatusCode(4001)
	// CloseNameClaimed: a guest's name belongs to a signed-in user (an
	// account or a JWT user), who has just connected; the guest loses it.
	// Reconnect with another name.
	CloseNameClaimed = ws.StatusCode(4002)
)

// CloseFrame encodes a close frame with code and a human-readable reason.
// Reasons longer than a control frame allows are cut.
func CloseFrame(code ws.StatusCode, reason string) []byte {
	return ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, reason)))
}

// ParseClose reads the body of a close frame from a peer: its code, which
// is CloseNormal for an empty body, or an error for a code or reason that
// RFC 6455 forbids, to be answered with CloseProtocolError rather than
// echoed. ws.CheckCloseFrameData leaves out codes above 4999, which no
// range of the RFC defines.
func ParseClose(p []byte) (ws.StatusCode, error) {
	if len(p) == 0 {
		return CloseNormal, nil
	}
	code, reason := ws.ParseCloseFrameData(p)
	if err := ws.CheckCloseFrameData(code, reason); err != nil {
		return code, fmt.Errorf("close code %d: %w", code, err)
	}
	if code > maxCloseCode {
		return code, fmt.Errorf("close code %d: %w", code, errCloseCodeRange)
	}
	return code, nil
}

// maxCloseCode is the highest code of RFC 6455's private range.
const maxCloseCode = 4999

var errCloseCodeRange = errors.New("outside 1000-4999")
