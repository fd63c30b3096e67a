#!/usr/bin/env bash
# bench-storm.sh: does a reaction storm slow chatd's message delivery, and
# how many frames does it cost each member? Measured with cmd/chatbench
# against chatd on loopback, on its default SQLite store (reactions need a
# store), with a fresh data directory per run.
#
# Each of ROUNDS rounds runs, alternately, on a fresh server:
#   calm    CONNS JSON connections in one room, SENDERS of them sending
#           RATE messages/s in all, for DURATION
#   storm   the same, and STORM_AT into it every connection reacts once to
#           the run's first message within STORM_WINDOW, again every
#           STORM_EVERY (reacting and unreacting in turn)
# and at the end prints (and saves as OUT with .md) a markdown table of the
# medians: message latency p50/p99 of the calm runs against those of the
# messages sent during the storms, the reaction events (react, unreact,
# reactions) each connection received per storm against the reactions they
# carried, the reactions acked and refused, and the errors.
#
# Environment (defaults in brackets):
#   ROUNDS [3]  CONNS [1000]  SENDERS [10]  RATE [200]  SIZE [64]
#   DURATION [20s]  DRAIN [5s]  STORM_AT [3s]  STORM_WINDOW [1s]
#   STORM_EVERY [5s]  PAUSE [2] seconds between runs
#   OUT [/tmp/bench-storm-DATE.jsonl]  CHATD_ADDR [127.0.0.1:18082]
#   CHATD_ARGS [-send-rate 0 -send-byte-rate 0 -ip-conns 0 -ip-conn-rate 0]
#   extra flags for chatd (the default lifts the per-connection send rate
#   and per-address connection limits, which would throttle a load tool
#   that is one host with many clients)
# Needs jq. Every run is bounded: chatbench stops by itself and the server
# is stopped.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-1000}
SENDERS=${SENDERS:-10}
RATE=${RATE:-200}
SIZE=${SIZE:-64}
DURATION=${DURATION:-20s}
DRAIN=${DRAIN:-5s}
STORM_AT=${STORM_AT:-3s}
STORM_WINDOW=${STORM_WINDOW:-1s}
STORM_EVERY=${STORM_EVERY:-5s}
PAUSE=${PAUSE:-2}
CHATD_ADDR=${CHATD_ADDR:-127.0.0.1:18082}
CHATD_ARGS=${CHATD_ARGS--send-rate 0 -send-byte-rate 0 -ip-conns 0 -ip-conn-rate 0} # set but empty stays empty
OUT=${OUT:-${TMPDIR:-/tmp}/bench-storm-$(date +%Y%m%d-%H%M%S).jsonl}

log() { echo "bench-storm: $*" >&2; }
die() {
	log "$*"
	exit 1
}

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
command -v jq >/dev/null || die "jq is needed for the summary"

make_scratch

log "building chatbench and chatd into $tmp"
go build -o "$tmp/chatbench" ./cmd/chatbench
go build -o "$tmp/chatd" ./cmd/chatd

addr_of() { echo "$CHATD_ADDR"; }

# launch_server NAME ADDR: execs chatd on ADDR with a fresh SQLite store
# (see lib/server.sh).
launch_server() {
	rm -rf "$tmp/data"
	# shellcheck disable=SC2086 # CHATD_ARGS is a list of flags.
	exec "$tmp/chatd" -addr "$2" -data "$tmp/data" $CHATD_ARGS
}

failures=0
common=(-scenario fanout -proto json -conns "$CONNS" -senders "$SENDERS" -rate "$RATE"
	-size "$SIZE" -duration "$DURATION" -drain "$DRAIN")

: >"$OUT"
log "results in $OUT"
for ((round = 1; round <= ROUNDS; round++)); do
	for name in calm storm; do
		start_server chatd || die "chatd did not start"
		args=("${common[@]}")
		if [[ $name == storm ]]; then
			args+=(-storm-at "$STORM_AT" -storm-window "$STORM_WINDOW" -storm-every "$STORM_EVERY")
		fi
		run_bench "$name" chatd "ws://$CHATD_ADDR/ws" "${args[@]}" || true
		stop_server
	done
done

summary=${OUT%.jsonl}.md
{
	echo "chatbench storm: $ROUNDS round(s), median per case; $CONNS conns x $SENDERS senders, $RATE msg/s, $SIZE-byte messages, $DURATION; storms at $STORM_AT every $STORM_EVERY within $STORM_WINDOW; $(nproc) CPUs"
	echo
	jq -rs '
		def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		def m(f): map(f | select(. != null)) | median | if . == null then "-" else (. * 10 | round) / 10 end;
		"| case | runs | msgs sent | lost | p50 ms | p99 ms | storm p50 ms | storm p99 ms | storms | reactions sent | acked | refused | reaction events/conn/storm (most) | reactions/conn/storm | server CPU % | errors |",
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
		(group_by(.name) | sort_by(.[0].name) | .[] |
			"| \(.[0].name) | \(length) | \(m(.sent)) | \(m(.lost)) | \(m(.latency_p50_ms)) | \(m(.latency_p99_ms)) | \(m(.storm_latency_p50_ms)) | \(m(.storm_latency_p99_ms)) | \(m(.storms // 0)) | \(m(.storm_reacts // 0)) | \(m(.storm_acks // 0)) | \(m(.storm_errors // 0)) | \(m(.storm_events_per_conn // 0)) (\(m(.storm_events_max_per_conn // 0))) | \(m(.storm_reactions_per_conn // 0)) | \(m(.server_cpu_pct)) | \(m(.errors)) |")
	' "$OUT"
} | tee "$summary"
log "summary in $summary"
((failures == 0)) || die "$failures run(s) failed"
