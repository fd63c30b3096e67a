package main

import (
	"io"
	"testing"
)

func TestStoreShardsFromFlagOrEnvironment(t *testing.T) {
	env := map[string]string{"CHATD_STORE_SHARDS": "3"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := parseConfig(nil, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.server.StoreShards != 3 {
		t.Fatalf("CHATD_STORE_SHARDS=3 gave %d shards", c.server.StoreShards)
	}
	if c, err = parseConfig([]string{"-store-shards", "2"}, lookup, io.Discard); err != nil || c.server.StoreShards != 2 {
		t.Fatalf("-store-shards 2 over the environment gave %d shards (%v)", c.server.StoreShards, err)
	}
	if c, err = parseConfig(nil, func(string) (string, bool) { return "", false }, io.Discard); err != nil || c.server.StoreShards != 0 {
		t.Fatalf("no setting gave %d shards (%v), want 0: the store's default", c.server.StoreShards, err)
	}
}

func TestDefaultStoreShardsFollowTheStore(t *testing.T) {
	for kind, want := range map[string]int{
		"sqlite":                   1,
		"postgres://u@db/chat":     4,
		"postgresql://u:p@db/chat": 4,
		"memory":                   1,
	} {
		if got := defaultStoreShards(kind); got != want {
			t.Errorf("%s: %d shards, want %d", kind, got, want)
		}
	}
}
