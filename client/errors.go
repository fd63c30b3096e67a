package client

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

var (
	// ErrClosed is returned by calls made after Close, and by calls that
	// Close interrupted.
	ErrClosed = errors.New("chatd client: closed")
	// ErrDisconnected is wrapped by the error of a request whose connection
	// dropped before its reply arrived, when the request is not one the
	// client repeats by itself. The server may or may not have carried it
	// out.
	ErrDisconnected = errors.New("chatd client: connection lost before the reply")
)

// ServerError is a request the server refused: an error reply. The
// connection stays open. Code is one of the protocol.Code constants.
type ServerError struct {
	Request string // the request type, e.g. "send"
	Code    string // e.g. "not_member"
	Message string // the server's human-readable explanation
	// RetryAfter, for rate_limited, is how long the server said to wait
	// before sending the request again; zero if it did not say.
	RetryAfter time.Duration
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("%s refused: %s: %s", e.Request, e.Code, e.Message)
}

// ErrorCode returns the code of the ServerError in err's chain, or "".
func ErrorCode(err error) string {
	if se, ok := errors.AsType[*ServerError](err); ok {
		return se.Code
	}
	return ""
}

// HandshakeError is a WebSocket handshake the server refused with an HTTP
// status, such as 409 for a name another connection holds.
type HandshakeError struct {
	StatusCode int
	Reason     string        // the server's plain-text reason
	RetryAfter time.Duration // from Retry-After, if the server set it
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("server refused the connection: %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Reason)
}

// Temporary reports whether dialing again later may succeed: the server was
// full or shutting down (503). Other refusals (a bad or taken name, 400 or
// 409) will not change by waiting.
func (e *HandshakeError) Temporary() bool {
	return e.StatusCode == http.StatusServiceUnavailable || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

func parseRetryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// TooLargeError is a request that would exceed the server's message size
// limit (welcome's max_message_bytes). It is not sent: the server would close
// the connection.
type TooLargeError struct {
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("request of %d bytes exceeds the server's limit of %d bytes", e.Size, e.Limit)
}

// CloseError is a connection the server closed with a WebSocket close code,
// such as 1001 when it shuts down or 1013 for a client that read too slowly
// (docs/protocol.md lists them).
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("server closed the connection: %d %s", e.Code, e.Reason)
}
