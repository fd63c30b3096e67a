package server

import (
	"context"

	"github.com/chatd/chatd/hub"
	"github.com/chatd/chatd/store"
)

// Relay is a cluster transport (package cluster/natsbus): the hub's Relay,
// and whether it can reach the other nodes now.
type Relay interface {
	hub.Relay
	Ready(ctx context.Context) error
}

// Relayed hands the hub a message another node stored (see
// hub.Hub.Relayed); the relay calls it.
func (s *Server) Relayed(m store.Message) { s.hub.Relayed(m) }

// CatchUp has the hub fill from the store what its rooms missed (see
// hub.Hub.CatchUp); the relay calls it periodically and on reconnects.
func (s *Server) CatchUp(ctx context.Context) error { return s.hub.CatchUp(ctx) }
