package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/postgres"
	"github.com/chatd/chatd/store/sqlite"
)

// openStore opens the store named by -store, or returns nil for memory.
func openStore(ctx context.Context, kind, dataDir string) (store.Store, error) {
	switch {
	case kind == "memory" || kind == "":
		return nil, nil
	case kind == "sqlite":
		path := filepath.Join(dataDir, "chatd.db")
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
		}
		return st, nil
	case strings.HasPrefix(kind, "postgres://") || strings.HasPrefix(kind, "postgresql://"):
		st, err := postgres.Open(ctx, kind)
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("-store %q: want memory, sqlite or a postgres:// URL", kind)
}

// storeName describes the store for logs without a password.
func storeName(kind, dataDir string) string {
	if kind == "sqlite" {
		return "sqlite " + filepath.Join(dataDir, "chatd.db")
	}
	if i := strings.Index(kind, "@"); i > 0 {
		return "postgres (" + kind[i+1:] + ")"
	}
	return kind
}
