#!/usr/bin/env bash
# bench-idle.sh: chatd's memory per idle connection on its default store
# (SQLite), as docs/benchmarks.md's "Idle connection memory" reports it.
#
# For each of ROUNDS rounds, each build of REVS in turn (alternating, so
# that a change in the machine's load falls on every build alike) and each
# protocol of PROTOS, it starts a fresh chatd on a fresh -data directory,
# holds CONNS idle connections for DURATION with chatbench (JSON clients
# each join the room "bench"), and prints chatbench's server RSS per
# connection with the load average beside it.
#
# Environment (defaults in brackets):
#   REVS [HEAD] git revisions to build chatd from, space-separated
#   ROUNDS [2]  PROTOS ["plain json"]  CONNS [10000]  DURATION [20s]
#   CHATD_ADDR [127.0.0.1:18084]
#   CHATD_ARGS [-ip-conns 0 -ip-conn-rate 0] flags for chatd besides
#   -addr and -data (the default lifts the per-address connection limits,
#   which would refuse a load tool that is one host with many clients)
# Every run is bounded: chatbench stops by itself and chatd is stopped.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

REVS=${REVS:-HEAD}
ROUNDS=${ROUNDS:-2}
PROTOS=${PROTOS:-plain json}
CONNS=${CONNS:-10000}
DURATION=${DURATION:-20s}
CHATD_ADDR=${CHATD_ADDR:-127.0.0.1:18084}
CHATD_ARGS=${CHATD_ARGS--ip-conns 0 -ip-conn-rate 0}

log() { echo "bench-idle: $*" >&2; }
die() {
	log "$*"
	exit 1
}

make_scratch
log "building chatbench into $tmp"
go build -o "$tmp/chatbench" ./cmd/chatbench
for rev in $REVS; do
	commit=$(git rev-parse --short "$rev")
	log "building chatd at $commit"
	mkdir -p "$tmp/src-$commit"
	git archive "$commit" | tar -x -C "$tmp/src-$commit"
	(cd "$tmp/src-$commit" && go build -o "$tmp/chatd-$commit" ./cmd/chatd)
done

addr_of() { echo "$CHATD_ADDR"; }
launch_server() {
	# shellcheck disable=SC2086 # CHATD_ARGS is a list of flags
	exec "$tmp/chatd-$build" -addr "$2" -data "$tmp/data" $CHATD_ARGS
}

echo "| round | build | protocol | RSS per conn | load average |"
echo "|---|---|---|---:|---|"
for ((round = 1; round <= ROUNDS; round++)); do
	for rev in $REVS; do
		build=$(git rev-parse --short "$rev")
		for proto in $PROTOS; do
			rm -rf "$tmp/data"
			start_server chatd || die "chatd $build did not start"
			load=$(cut -d' ' -f1-3 /proc/loadavg)
			"$tmp/chatbench" -q -scenario idle -conns "$CONNS" -duration "$DURATION" \
				-proto "$proto" -url "ws://$CHATD_ADDR/ws" -pid "$server_pid" >"$tmp/one.txt" ||
				log "chatbench failed: $build $proto"
			stop_server
			rss=$(awk '/rss\/conn/ {print $3}' "$tmp/one.txt")
			echo "| $round | \`$build\` | $proto | ${rss:-?} B | $load |"
		done
	done
done
