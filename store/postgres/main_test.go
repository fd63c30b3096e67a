package postgres_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if a goroutine outlives them: Close must release
// everything a Store started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
