//go:build !unix

package server

// DefaultMaxConns is a fixed cap where the open-file limit cannot be read.
func DefaultMaxConns() int { return 10000 }
