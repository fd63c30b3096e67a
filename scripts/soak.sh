#!/usr/bin/env bash
# soak.sh: runs chatd with its default SQLite store under steady load for
# DURATION and prints, every INTERVAL seconds, the server's RSS, its
# goroutines and connections (from /metrics) and the size of its store, to
# show that memory and goroutines stay flat while the history grows. At the
# end it prints the chat load's loss and latency and the churn's handshakes.
#
# The default is a full machine: CONNS connections, CHURN_CONNS of them
# clients that connect to a room, stay HOLD and leave again, each coming
# back at once (CHURN_RATE 0; else at most CHURN_RATE connects a second),
# and the rest members of ROOMS rooms that chat at RATE messages a second
# over all the rooms. SCENARIO=fanout is the
# earlier, smaller soak: CONNS [1000] clients in one room, SENDERS [10] of
# them sending RATE [200] messages a second, no churn.
#
# Environment (defaults in brackets):
#   SCENARIO [rooms]  DURATION [1800s]  WARMUP [30s] (sent, not measured)
#   INTERVAL [30] seconds  CONNS [18000]  ROOMS [100]  RATE [20] msgs/s
#   CHURN_CONNS [1000]  CHURN_RATE [0] connects/s  HOLD [10s]  SIZE [64]
#   ADDR [127.0.0.1:18482]  CHATD_ARGS [] extra flags for chatd
#   OUT [/tmp/soak-DATE.jsonl] where chatbench's results are appended
# chatd and each chatbench run in their own process, each under the
# open-file limit (ulimit -n): chatd needs CONNS plus headroom. The clients
# are spread over loopback source addresses by chatbench, and chatd's
# per-address limits are lifted, since every client is this host.
# Bounded: each chatbench stops after WARMUP + DURATION and its drain, and
# the server is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

SCENARIO=${SCENARIO:-rooms}
DURATION=${DURATION:-1800s}
WARMUP=${WARMUP:-30s}
INTERVAL=${INTERVAL:-30}
ADDR=${ADDR:-127.0.0.1:18482}
SIZE=${SIZE:-64}
CHATD_ARGS=${CHATD_ARGS:-}
OUT=${OUT:-${TMPDIR:-/tmp}/soak-$(date +%Y%m%d-%H%M%S).jsonl}
case $SCENARIO in
rooms)
	CONNS=${CONNS:-18000}
	ROOMS=${ROOMS:-100}
	RATE=${RATE:-20}
	CHURN_CONNS=${CHURN_CONNS:-1000}
	CHURN_RATE=${CHURN_RATE:-0}
	HOLD=${HOLD:-10s}
	;;
fanout)
	CONNS=${CONNS:-1000}
	SENDERS=${SENDERS:-10}
	RATE=${RATE:-200}
	CHURN_CONNS=0
	;;
*)
	echo "soak: SCENARIO must be rooms or fanout" >&2
	exit 1
	;;
esac

log() { echo "soak: $*" >&2; }
die() {
	log "$*"
	exit 1
}

[[ $INTERVAL =~ ^[1-9][0-9]*$ ]] || die "INTERVAL must be a positive number of seconds"
steady=$((CONNS - CHURN_CONNS))
if [[ $SCENARIO == rooms ]]; then
	((ROOMS > 0 && steady >= 2 * ROOMS)) || die "CONNS - CHURN_CONNS must be at least 2 per room"
	members=$((steady / ROOMS))
	steady=$((members * ROOMS))
fi
# chatd holds a descriptor per connection plus its listeners, its store
# and its log; chatbench a descriptor per connection.
fds=$(ulimit -n)
if [[ $fds != unlimited ]] && ((steady + CHURN_CONNS + 200 > fds)); then
	die "$((steady + CHURN_CONNS)) connections need more than the open-file limit $fds allows (ulimit -n); lower CONNS"
fi

make_scratch

log "building chatd and chatbench into $tmp"
go build -o "$tmp/chatd" ./cmd/chatd
go build -o "$tmp/chatbench" ./cmd/chatbench

addr_of() { echo "$ADDR"; }
launch_server() {
	# -max-conns leaves room for churned connections the server has not
	# yet finished closing.
	# shellcheck disable=SC2086 # CHATD_ARGS is a list of flags.
	exec "$tmp/chatd" -addr "$2" -data "$tmp/data" \
		-max-conns $((steady + CHURN_CONNS + 100)) \
		-send-rate 0 -send-byte-rate 0 -ip-conns 0 -ip-conn-rate 0 $CHATD_ARGS
}
start_server chatd || die "chatd did not start"

common=(-q -json -url "ws://$ADDR/ws" -pid "$server_pid" -size "$SIZE"
	-warmup "$WARMUP" -duration "$DURATION")
if [[ $SCENARIO == rooms ]]; then
	log "$steady clients in $ROOMS rooms, $RATE msgs/s in all; churn: $CHURN_CONNS clients, each connected for $HOLD at a time"
	"$tmp/chatbench" "${common[@]}" -scenario rooms -room soak -rooms "$ROOMS" -members "$members" \
		-rate "$(awk -v r="$RATE" -v n="$ROOMS" 'BEGIN { print r / n }')" \
		>"$tmp/chat.json" 2>"$tmp/chat.err" &
else
	log "$CONNS clients in one room, $SENDERS of them sending $RATE msgs/s in all"
	"$tmp/chatbench" "${common[@]}" -scenario fanout -conns "$CONNS" -senders "$SENDERS" -rate "$RATE" \
		>"$tmp/chat.json" 2>"$tmp/chat.err" &
fi
chat=$!
churn=
if ((CHURN_CONNS > 0)); then
	# The churning clients come and go in the first room, which chats.
	"$tmp/chatbench" "${common[@]}" -scenario churn -room soak-0 -conns "$CHURN_CONNS" \
		-rate "$CHURN_RATE" -hold "$HOLD" >"$tmp/churn.json" 2>"$tmp/churn.err" &
	churn=$!
fi

# metric NAME: the value of an unlabelled metric in $tmp/metrics.
metric() { awk -v m="$1" '$1 == m { printf "%d", $2 }' "$tmp/metrics"; }

echo "elapsed_s rss_kib goroutines connections db_kib"
start=$(date +%s)
while kill -0 "$chat" 2>/dev/null || { [[ -n $churn ]] && kill -0 "$churn" 2>/dev/null; }; do
	kill -0 "$server_pid" 2>/dev/null || die "chatd died; its log: $(tail -5 "$tmp/chatd.log")"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
	if curl -sf --max-time 5 "http://$ADDR/metrics" >"$tmp/metrics"; then
		g=$(metric go_goroutines) n=$(metric chatd_connections)
	else
		g=? n=?
	fi
	db=$(du -sk "$tmp/data" 2>/dev/null | cut -f1) || db=- # none with -store memory
	echo "$(($(date +%s) - start)) $rss $g $n $db"
	sleep "$INTERVAL"
done
status=0
wait "$chat" || status=1
if [[ -n $churn ]]; then
	wait "$churn" || status=1
fi

# summary FILE KEYS...: KEY=value for each KEY of the JSON result in FILE
# (chatbench writes one flat object of numbers and strings).
summary() {
	local f=$1 k out=
	shift
	for k in "$@"; do
		out+="$k=$(grep -o "\"$k\":[^,}]*" "$f" | head -1 | cut -d: -f2) "
	done
	echo "${out% }"
}
for part in chat churn; do
	[[ $part == churn && -z $churn ]] && continue
	if [[ ! -s $tmp/$part.json ]]; then
		log "$part: no result; chatbench said: $(tail -5 "$tmp/$part.err")"
		status=1
		continue
	fi
	cat "$tmp/$part.json" >>"$OUT"
done
log "chatbench results (one JSON line each, with per-room figures) in $OUT"
if [[ -s $tmp/chat.json ]]; then
	echo "chat summary: $(summary "$tmp/chat.json" conns_open sent delivered lost duplicates out_of_order disconnects latency_p50_ms latency_p99_ms latency_max_ms server_cpu_pct)"
fi
if [[ -n $churn && -s $tmp/churn.json ]]; then
	echo "churn summary: $(summary "$tmp/churn.json" connects connects_per_sec connect_errors handshake_p99_ms errors)"
fi
exit "$status"
