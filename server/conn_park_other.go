//go:build !linux

package server

import "time"

// poller is Linux only; elsewhere readers block in the runtime as usual.
type poller struct{}

func newPoller(time.Duration, <-chan struct{}) (*poller, error) { return nil, nil }

func (*poller) run()                {}
func (*poller) close()              {}
func (*poller) readable(*conn) bool { return true }
func (*poller) arm(*conn) bool      { return false }
func (*poller) forget(*conn)        {}
