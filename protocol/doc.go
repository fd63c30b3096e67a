// Package protocol owns chatd's wire format: which room and user names are
// valid, the WebSocket close codes chatd sends and what each one means, and
// the encoding of server-to-client frames.
//
// Frames are encoded once per message and the resulting bytes are shared by
// every recipient, so nothing in this package may retain or modify a frame
// after returning it.
package protocol
