#!/usr/bin/env bash
# Measures chatd with each message store, in alternating rounds, and prints
# the median of every case with each store's ratio to the in-memory run:
#   fanout-window  1,000 clients in one room, 10 senders keeping WINDOW
#                  messages in flight (deliveries/s)
#   rooms-stored   100 senders in 100 rooms of 2, ROOMS_WINDOW messages in
#                  flight in all (stored msgs/s)
# Usage: scripts/bench-store.sh   (PostgreSQL: set CHATD_TEST_POSTGRES, or
# the script starts a throwaway one with scripts/postgres-test-server)
# Environment (defaults in brackets):
#   STORES [memory sqlite postgres]  ROUNDS [3]  DURATION [10s]  DRAIN [5s]
#   WINDOW [64]  ROOMS_WINDOW [3200]  PAUSE [2]  ADDR [127.0.0.1:18382]
#   SHARDS [] -store-shards for chatd (empty: its default per store)
# Every run is bounded: chatbench stops by itself and servers are stopped.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

STORES=${STORES:-memory sqlite postgres}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
DRAIN=${DRAIN:-5s}
WINDOW=${WINDOW:-64}
ROOMS_WINDOW=${ROOMS_WINDOW:-3200}
PAUSE=${PAUSE:-2}
ADDR=${ADDR:-127.0.0.1:18382}
SHARDS=${SHARDS:-}
OUT=${OUT:-${TMPDIR:-/tmp}/bench-store-$(date +%Y%m%d-%H%M%S).jsonl}

log() { echo "bench-store: $*" >&2; }
die() {
	log "$*"
	exit 1
}

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
make_scratch
pg_dir=
# cleanup_more stops the PostgreSQL this script started, if it did.
cleanup_more() {
	if [[ -n $pg_dir ]]; then
		./scripts/postgres-test-server stop "$pg_dir" || true
	fi
}

if [[ " $STORES " == *" postgres "* && -z ${CHATD_TEST_POSTGRES:-} ]]; then
	pg_env=$(./scripts/postgres-test-server start)
	eval "$pg_env"
	pg_dir=${CHATD_TEST_POSTGRES_DIR:-}
fi

log "building chatd and chatbench into $tmp"
go build -o "$tmp/chatd" ./cmd/chatd
go build -o "$tmp/chatbench" ./cmd/chatbench

# start_chatd STORE: a fresh chatd with an empty store of that kind.
start_chatd() {
	local store=$1 args=(-addr "$ADDR" -send-rate 0 -send-byte-rate 0 -ip-conns 0 -ip-conn-rate 0)
	case $store in
	memory) args+=(-store memory) ;;
	sqlite)
		rm -rf "$tmp/data"
		args+=(-store sqlite -data "$tmp/data")
		;;
	postgres)
		# A schema of its own per run keeps the runs independent.
		local schema="bench_$RANDOM$RANDOM"
		psql "$CHATD_TEST_POSTGRES" -qc "CREATE SCHEMA $schema" >/dev/null
		local sep='?'
		[[ $CHATD_TEST_POSTGRES == *\?* ]] && sep='&'
		args+=(-store "$CHATD_TEST_POSTGRES${sep}search_path=$schema")
		;;
	*) die "unknown store '$store' (memory, sqlite, postgres)" ;;
	esac
	[[ -z $SHARDS ]] || args+=(-store-shards "$SHARDS")
	port_open "$ADDR" && die "$ADDR is already in use"
	"$tmp/chatd" "${args[@]}" >"$tmp/chatd.log" 2>&1 &
	server_pid=$!
	await_server chatd "$ADDR" "$tmp/chatd.log" || die "chatd did not start"
}

failures=0
# bench NAME STORE ARGS...: one chatbench run (see run_bench).
bench() {
	local name=$1 store=$2
	shift 2
	run_bench "$name" "$store" "ws://$ADDR/ws" -drain "$DRAIN" -duration "$DURATION" -rate 0 "$@"
}

: >"$OUT"
log "results in $OUT"
for ((round = 1; round <= ROUNDS; round++)); do
	for store in $STORES; do
		start_chatd "$store"
		bench fanout-window "$store" -scenario fanout -conns 1000 -senders 10 -window "$WINDOW"
		stop_server
		# The stored-messages case gets a fresh, empty store of its own.
		start_chatd "$store"
		bench rooms-stored "$store" -scenario rooms -rooms 100 -members 2 -window "$ROOMS_WINDOW"
		stop_server
	done
done

summary=${OUT%.jsonl}.md
{
	echo "chatbench store: $ROUNDS round(s), median per case; stores: $STORES; shards: ${SHARDS:-default}; $(nproc) CPUs"
	echo
	"$tmp/chatbench" summarize -baseline memory "$OUT"
} | tee "$summary"
log "results: $OUT, table: $summary"
((failures == 0)) || die "$failures run(s) failed"
