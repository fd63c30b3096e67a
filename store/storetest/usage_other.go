//go:build !unix

package storetest

func usage() (cpuMicros, written int64, ok bool) { return 0, 0, false }
