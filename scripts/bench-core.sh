#!/usr/bin/env bash
# bench-core.sh: the core benchmark of chatd against the gorilla/websocket
# chat example, both on loopback, measured with cmd/chatbench.
#
# For each of ROUNDS rounds and each server of SERVERS in turn, it starts the
# server, runs these cases against it with -pid (so that its CPU and memory
# are read from /proc) and stops it:
#   idle           IDLE_CONNS connections held for IDLE_DURATION
#                  (first, on the fresh server, so that the memory it weighs
#                  per connection is not hidden by heap freed by earlier cases)
#   fanout-r20     FANOUT_CONNS conns, FANOUT_SENDERS senders, RATE_LOW msg/s
#   fanout-r200    the same at RATE_HIGH msg/s
#   fanout-r200-few  FEW_SENDERS senders at RATE_HIGH msg/s in all: the
#                  same deliveries from fewer senders
#   fanout-window  the same as fast as a window of WINDOW messages allows
#   fanout-window-few  FEW_SENDERS senders, each with FEW_WINDOW messages
#                  in flight, as fast as that allows: a closed loop with few
#                  messages outstanding, where every frame held back by the
#                  server is throughput lost (deliveries/s)
#   fanout-window-json  chatd only (unless FANOUT_JSON=0): fanout-window in
#                  chatd's JSON protocol (chatbench -proto json)
#   idle-json      chatd only (unless IDLE_JSON=0), on a fresh server of its
#                  own: idle with IDLE_CONNS JSON connections, all joining
#                  one room; besides the memory per connection, the time
#                  they take to connect and the server's CPU meanwhile
#                  (connect s, connect server CPU s) weigh presence
#   fanout-5k      only with FANOUT_5K=1 (or FANOUT_5K=only, which runs it
#                  alone), on a fresh server of its own: FANOUT_5K_CONNS
#                  conns, one sender at RATE_LOW msg/s for
#                  FANOUT_5K_DURATION; every message is one sweep of
#                  writes over all the connections, none shared
# All connections join the room "bench" (chatbench adds ?room=bench; the
# gorilla example ignores it). Each result is one JSON line in OUT; at the end
# a markdown table of the medians per case and server, with the ratio to
# gorilla, is printed (and saved as OUT with .md), followed by chatd's
# fanout-window deliveries/s in JSON over plain.
#
# Environment (defaults in brackets):
#   SERVERS ["gorilla chatd"]  ROUNDS [3]  OUT [/tmp/bench-core-DATE.jsonl]
#   FANOUT_CONNS [1000]  FANOUT_SENDERS [10]  RATE_LOW [20]  RATE_HIGH [200]
#   WINDOW [64]  FEW_SENDERS [2]  FEW_WINDOW [16] (each)  SIZE [64]  DURATION [10s]  DRAIN [5s]
#   IDLE_CONNS [10000]  IDLE_DURATION [10s]  PAUSE [2] seconds between cases
#   GORILLA_ADDR [127.0.0.1:18080]  CHATD_ADDR [127.0.0.1:18082]
#   FANOUT_5K [0]  FANOUT_5K_CONNS [5000]  FANOUT_5K_DURATION [15s]
#   FANOUT_JSON [1]  IDLE_JSON [1]  CHATD_ARGS [-send-rate 0 -send-byte-rate 0 -store memory -ip-conns 0 -ip-conn-rate 0] extra flags
#   for chatd (the default lifts its per-connection send rate limit and its
#   per-address connection limits, which would throttle a load tool that
#   is one host with many clients, and keeps messages in memory as the
#   gorilla example does; set CHATD_ARGS= for chatd's own defaults)
#   GORILLA_VERSION [v1.5.3]
# Every run is bounded: chatbench stops by itself and servers are stopped.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

SERVERS=${SERVERS:-gorilla chatd}
ROUNDS=${ROUNDS:-3}
FANOUT_CONNS=${FANOUT_CONNS:-1000}
FANOUT_SENDERS=${FANOUT_SENDERS:-10}
RATE_LOW=${RATE_LOW:-20}
RATE_HIGH=${RATE_HIGH:-200}
WINDOW=${WINDOW:-64}
FEW_SENDERS=${FEW_SENDERS:-2}
FEW_WINDOW=${FEW_WINDOW:-16}
SIZE=${SIZE:-64}
DURATION=${DURATION:-10s}
DRAIN=${DRAIN:-5s}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_DURATION=${IDLE_DURATION:-10s}
PAUSE=${PAUSE:-2}
IDLE_JSON=${IDLE_JSON:-1}
GORILLA_ADDR=${GORILLA_ADDR:-127.0.0.1:18080}
CHATD_ADDR=${CHATD_ADDR:-127.0.0.1:18082}
CHATD_ARGS=${CHATD_ARGS--send-rate 0 -send-byte-rate 0 -store memory -ip-conns 0 -ip-conn-rate 0} # set but empty stays empty
FANOUT_JSON=${FANOUT_JSON:-1}
FANOUT_5K=${FANOUT_5K:-0}
FANOUT_5K_CONNS=${FANOUT_5K_CONNS:-5000}
FANOUT_5K_DURATION=${FANOUT_5K_DURATION:-15s}
GORILLA_VERSION=${GORILLA_VERSION:-v1.5.3}
OUT=${OUT:-${TMPDIR:-/tmp}/bench-core-$(date +%Y%m%d-%H%M%S).jsonl}

log() { echo "bench-core: $*" >&2; }
die() {
	log "$*"
	exit 1
}

for s in $SERVERS; do
	case $s in
	gorilla | chatd) ;;
	*) die "unknown server '$s' in SERVERS (gorilla, chatd)" ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
[[ $FANOUT_JSON == [01] ]] || die "FANOUT_JSON must be 0 or 1"
[[ $FANOUT_5K == 0 || $FANOUT_5K == 1 || $FANOUT_5K == only ]] || die "FANOUT_5K must be 0, 1 or only"
[[ $FEW_SENDERS =~ ^[1-9][0-9]*$ && $FEW_WINDOW =~ ^[1-9][0-9]*$ ]] || die "FEW_SENDERS and FEW_WINDOW must be positive numbers"

make_scratch

log "building chatbench into $tmp"
go build -o "$tmp/chatbench" ./cmd/chatbench
if [[ " $SERVERS " == *" chatd "* ]]; then
	[[ -d cmd/chatd ]] || die "SERVERS has chatd but there is no ./cmd/chatd (try SERVERS=gorilla)"
	log "building chatd"
	go build -o "$tmp/chatd" ./cmd/chatd
fi
if [[ " $SERVERS " == *" gorilla "* ]]; then
	log "installing github.com/gorilla/websocket/examples/chat@$GORILLA_VERSION"
	(cd "$tmp" && GOBIN=$tmp go install "github.com/gorilla/websocket/examples/chat@$GORILLA_VERSION")
fi

addr_of() {
	case $1 in
	gorilla) echo "$GORILLA_ADDR" ;;
	chatd) echo "$CHATD_ADDR" ;;
	esac
}

# launch_server NAME ADDR: execs NAME's server on ADDR (see lib/server.sh).
launch_server() {
	case $1 in
	gorilla)
		# The example serves home.html from its working directory for /.
		cd "$tmp" && exec ./chat -addr "$2"
		;;
	chatd)
		# shellcheck disable=SC2086 # CHATD_ARGS is a list of flags.
		exec "$tmp/chatd" -addr "$2" $CHATD_ARGS
		;;
	esac
}

failures=0

# bench NAME SERVER ARGS...: one chatbench run, its JSON line appended to OUT.
bench() {
	local name=$1 server=$2
	shift 2
	run_bench "$name" "$server" "ws://$(addr_of "$server")/ws" -drain "$DRAIN" -size "$SIZE" "$@"
}

fanout=(-scenario fanout -conns "$FANOUT_CONNS" -senders "$FANOUT_SENDERS" -duration "$DURATION")

: >"$OUT"
log "results in $OUT"
for ((round = 1; round <= ROUNDS; round++)); do
	for server in $SERVERS; do
		if [[ $FANOUT_5K != 0 ]]; then
			start_server "$server" || die "$server did not start"
			bench fanout-5k "$server" -scenario fanout -conns "$FANOUT_5K_CONNS" -senders 1 \
				-duration "$FANOUT_5K_DURATION" -rate "$RATE_LOW" || true
			stop_server
			[[ $FANOUT_5K != only ]] || continue
		fi
		start_server "$server" || die "$server did not start"
		bench idle "$server" -scenario idle -conns "$IDLE_CONNS" -duration "$IDLE_DURATION" &&
			bench "fanout-r$RATE_LOW" "$server" "${fanout[@]}" -rate "$RATE_LOW" &&
			bench "fanout-r$RATE_HIGH" "$server" "${fanout[@]}" -rate "$RATE_HIGH" &&
			bench "fanout-r$RATE_HIGH-few" "$server" -scenario fanout -conns "$FANOUT_CONNS" -senders "$FEW_SENDERS" \
				-duration "$DURATION" -rate "$RATE_HIGH" &&
			bench fanout-window "$server" "${fanout[@]}" -rate 0 -window "$WINDOW" &&
			bench fanout-window-few "$server" -scenario fanout -conns "$FANOUT_CONNS" -senders "$FEW_SENDERS" \
				-duration "$DURATION" -rate 0 -window $((FEW_SENDERS * FEW_WINDOW)) &&
			{
				[[ $server != chatd || $FANOUT_JSON != 1 ]] ||
					bench fanout-window-json "$server" "${fanout[@]}" -rate 0 -window "$WINDOW" -proto json
			} ||
			true
		stop_server
		if [[ $server == chatd && $IDLE_JSON == 1 ]]; then
			start_server chatd || die "chatd did not start"
			bench idle-json chatd -scenario idle -proto json -conns "$IDLE_CONNS" -duration "$IDLE_DURATION" || true
			stop_server
		fi
	done
done

# json_ratio TABLE: chatd's fanout-window-json over fanout-window
# deliveries/s in the markdown table, if it has both.
json_ratio() {
	awk -F'|' '
		function trim(s) { gsub(/^ +| +$/, "", s); return s }
		NR == 1 { for (i = 2; i <= NF; i++) if (trim($i) == "deliveries/s") col = i; next }
		col && trim($3) == "chatd" && trim($2) == "fanout-window" { plain = trim($col) }
		col && trim($3) == "chatd" && trim($2) == "fanout-window-json" { json = trim($col) }
		END {
			if (plain > 0 && json != "")
				printf "chatd fanout-window deliveries/s, json/plain: %.2fx (%s / %s)\n", json / plain, json, plain
		}' "$1"
}

summary=${OUT%.jsonl}.md
big=
if [[ $FANOUT_5K != 0 ]]; then
	big="fanout-5k $FANOUT_5K_CONNS conns x 1 sender at $RATE_LOW msg/s, $FANOUT_5K_DURATION"
fi
"$tmp/chatbench" summarize -baseline gorilla "$OUT" >"$tmp/table.md"
{
	echo "chatbench core: $ROUNDS round(s), median per case; $FANOUT_CONNS conns x $FANOUT_SENDERS senders ($FEW_SENDERS senders for r$RATE_HIGH-few, each with $FEW_WINDOW in flight for window-few), $SIZE-byte messages, $DURATION; idle $IDLE_CONNS conns; $(nproc) CPUs${big:+; $big}"
	echo
	cat "$tmp/table.md"
	ratio=$(json_ratio "$tmp/table.md")
	if [[ -n $ratio ]]; then
		echo
		echo "$ratio"
	fi
} | tee "$summary"
log "results: $OUT, table: $summary"
if ((failures > 0)); then
	die "$failures run(s) failed"
fi
