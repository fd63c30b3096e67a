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
	case isPostgres(kind):
		st, err := postgres.Open(ctx, kind)
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("-store %q: want memory, sqlite or a postgres:// URL", redact(kind))
}

// defaultStoreShards is the number of journals for -store-shards 0.
//
// SQLite takes every write through one connection, so journals in
// parallel would only queue there, each with smaller batches and so more
// fsyncs per message: one journal. PostgreSQL commits transactions on
// separate connections in parallel, and a commit waiting on a row lock or
// a slow WAL flush then holds up only a quarter of the rooms. The store's
// pool (16 connections unless the URL sets pool_max_conns) leaves room for
// joins, history reads and account lookups while every journal commits;
// the flag's help says to keep it well above -store-shards.
func defaultStoreShards(kind string) int {
	if isPostgres(kind) {
		return 4
	}
	return 1
}

// storeName describes the store for logs, without a password.
func storeName(kind, dataDir string) string {
	if kind == "sqlite" {
		return "sqlite " + filepath.Join(dataDir, "chatd.db")
	}
	return redact(kind)
}

// isPostgres reports whether -store names a PostgreSQL database.
func isPostgres(kind string) bool {
	return strings.HasPrefix(kind, "postgres://") || strings.HasPrefix(kind, "postgresql://")
}
