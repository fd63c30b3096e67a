// Package systemtest has no code of its own: its tests run chatd as its
// users do, as separate processes of the built binary, in a cluster over
// the embedded NATS servers and PostgreSQL, behind a real HAProxy, and
// check what the clients see when a node dies, or is cut off the others
// in a network namespace of its own.
package systemtest
