//go:build !unix

package server

import (
	"net"
	"syscall"
)

// rawConnOf returns nil: without non-blocking writes every connection uses
// the blocking drain path.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

type nonblockingWriter struct{}

func (*nonblockingWriter) write(syscall.RawConn, []byte) (int, error) { return 0, nil }
