package memory_test

import (
	"testing"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/memory"
	"github.com/chatd/chatd/store/storetest"
)

// TestConformance runs the Accounts suite; memory keeps nothing across
// Close, so the suite's reopen test is skipped.
func TestConformance(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T) store.Accounts { return memory.NewAccounts() })
}
