package sqlite

import "time"

// SetBusyTimeout sets how long new connections wait for another process's
// lock, and returns a function that restores the previous value.
func SetBusyTimeout(d time.Duration) (restore func()) {
	old := busyTimeout
	busyTimeout = d
	return func() { busyTimeout = old }
}

// WriterPragma reads PRAGMA name on the connection every write goes
// through: the settings that durability and commit cost depend on are that
// connection's own.
func (s *Store) WriterPragma(name string) (int64, error) {
	var v int64
	err := s.w.QueryRow("PRAGMA " + name).Scan(&v)
	return v, err
}
