// Package protocol owns chatd's wire format: which room and user names are
// valid, the WebSocket close codes chatd sends and what each one means, and
// the JSON requests and events of the chatd.v1 subprotocol.
//
// It imports no WebSocket library: the server builds frames around these
// payloads, and clients built on any library read the same codes.
package protocol
