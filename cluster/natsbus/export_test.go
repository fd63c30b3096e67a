package natsbus

// DropEvery makes b drop every k-th notice it would announce (0: none), as
// a NATS that loses messages would.
func DropEvery(b *Bus, k int) { b.dropEvery.Store(int64(k)) }

// Flush waits until b's server has the subscriptions b sent so far.
func Flush(b *Bus) error { return b.nc.Flush() }

// Vanish drops b's NATS connection with no goodbye, as a node killed with
// SIGKILL would.
func Vanish(b *Bus) { b.nc.Close() }

// Mute stops (or resumes) b's heartbeats, so that the others take b for
// dead, as if it were cut off from them.
func Mute(b *Bus, muted bool) { b.muted.Store(muted) }

// SwapPairs makes b publish its notices in pairs, the second before the
// first, as two nodes' notices that cross on the way would arrive.
func SwapPairs(b *Bus, on bool) { b.swapping.Store(on) }
