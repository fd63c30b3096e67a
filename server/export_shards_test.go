package server

// JournalShard is the index of the journal that room's messages go to, for
// tests that need two rooms on different journals. The server must have a
// store.
func (s *Server) JournalShard(room string) int { return s.journals.Shard(room) }
