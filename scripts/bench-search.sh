#!/usr/bin/env bash
# Measures full-text search on both stores: BenchmarkSearch (see
# store/storetest/benchsearch.go) fills a fresh store with MESSAGES
# messages in ROOMS rooms through Append, then times QUERIES searches of
# ten kinds while RATE messages a second are appended, and prints the
# percentiles (p50-ms, p99-ms, max-ms and each kind's p99).
# Usage: scripts/bench-search.sh   (PostgreSQL: set CHATD_TEST_POSTGRES, or
# the script starts a throwaway one with scripts/postgres-test-server)
# Environment (defaults in brackets):
#   STORES [sqlite postgres]  MESSAGES [1000000]  ROOMS [1000]  RATE [200]
#   QUERIES [2000]
set -euo pipefail

cd "$(dirname "$0")/.."

STORES=${STORES:-sqlite postgres}
MESSAGES=${MESSAGES:-1000000}
ROOMS=${ROOMS:-1000}
RATE=${RATE:-200}
QUERIES=${QUERIES:-2000}

log() { echo "bench-search: $*" >&2; }

pg_dir=
cleanup() {
	if [[ -n $pg_dir ]]; then
		./scripts/postgres-test-server stop "$pg_dir" || true
	fi
}
trap cleanup EXIT

if [[ " $STORES " == *" postgres "* && -z ${CHATD_TEST_POSTGRES:-} ]]; then
	pg_env=$(./scripts/postgres-test-server start)
	eval "$pg_env"
	pg_dir=${CHATD_TEST_POSTGRES_DIR:-}
fi

log "$(uptime)"
for s in $STORES; do
	log "$s: $MESSAGES messages in $ROOMS rooms, $QUERIES searches while $RATE msgs/s are appended"
	CHATD_BENCH_SEARCH_MESSAGES=$MESSAGES CHATD_BENCH_SEARCH_ROOMS=$ROOMS CHATD_BENCH_SEARCH_RATE=$RATE \
		go test -run '^$' -bench '^BenchmarkSearch$' -benchtime "${QUERIES}x" -timeout 2h "./store/$s"
done
log "$(uptime)"
