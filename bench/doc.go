// Package bench owns chatbench's load generator for plain-text WebSocket
// broadcast servers (every text frame a client sends goes to every other
// client), and for chatd's JSON protocol (subprotocol chatd.v1: send
// requests, acks and message events): opening many client connections
// cheaply, sending timestamped messages at a fixed rate or as fast as a
// window of outstanding deliveries allows, in one room or in many rooms at
// once, checking and timing what each receiver gets (loss, duplicates,
// order, echoes of its own messages, messages from another room, several
// messages merged into one frame with '\n'), holding idle connections to
// weigh the server's memory per connection, opening and closing connections
// at a rate to time handshakes, reading the server's CPU and memory from
// /proc, and summarising JSON results into a table. It owns no server code.
package bench
