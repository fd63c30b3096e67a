package natsbus

// Stats is a snapshot of a Bus's figures, for metrics.
type Stats struct {
	Connected  bool   // the NATS connection is up
	Nodes      int    // other nodes heard from within NodeTimeout
	NoticesIn  uint64 // room messages other nodes announced, received
	NoticesOut uint64 // room messages announced to the other nodes
}

// Stats returns the bus's figures now.
func (b *Bus) Stats() Stats {
	b.mu.Lock()
	nodes := len(b.lastSeen)
	b.mu.Unlock()
	return Stats{Connected: b.nc.IsConnected(), Nodes: nodes, NoticesIn: b.noticesIn.Load(), NoticesOut: b.noticesOut.Load()}
}
