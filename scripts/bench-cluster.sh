#!/usr/bin/env bash
# bench-cluster.sh: what a chatd cluster costs against one node, and a
# Centrifugo cluster as the peer, all on loopback, measured with
# cmd/chatbench.
#
# The servers (SERVERS picks among them):
#   chatd-1       one chatd node on PostgreSQL (no NATS)
#   chatd-3       three chatd nodes on the same PostgreSQL, each embedding a
#                 NATS server routed to the other two (-nats-cluster,
#                 -nats-routes)
#   centrifugo-3  three Centrifugo v6 nodes with the NATS broker over one
#                 nats-server, both built at bench time (`go install
#                 github.com/centrifugal/centrifugo/v6@CENTRIFUGO_VERSION`,
#                 minutes, and github.com/nats-io/nats-server/v2@
#                 NATS_SERVER_VERSION) into a temporary directory; it keeps
#                 no history (its NATS broker has none), chatd stores every
#                 message
# PostgreSQL is a throwaway server started with scripts/postgres-test-server
# (and stopped at the end), unless PG_URL names one; each start of a chatd
# server gets a fresh database in it.
#
# For each of ROUNDS rounds and each server in turn, it starts the server,
# runs these cases and stops it:
#   r$RATE_LOW, r$RATE_HIGH  CONNS connections in one room, spread evenly
#                 over the nodes (connection i on node i mod n), the first
#                 SENDERS of them sending (so one on each node) RATE_LOW,
#                 then RATE_HIGH msg/s in all, for WARMUP + DURATION
# chatd speaks CHATD_PROTO (json: send requests, acks; or plain), Centrifugo
# its JSON protocol (chatbench -proto centrifugo). CPU is summed over every
# process of the server (chatbench -pid and -pid-tree): the chatd nodes and
# PostgreSQL's postmaster with all its backends, or the Centrifugo nodes and
# nats-server; the table's deliveries/CPU-s is deliveries over that sum.
# Each result is one JSON line in OUT; at the end a markdown table of the
# medians per case and server, with the ratio of each to chatd-1, is
# printed (and saved as OUT with .md), then CPU per delivery.
#
# Environment (defaults in brackets):
#   SERVERS ["chatd-1 chatd-3 centrifugo-3"]  ROUNDS [3]
#   OUT [/tmp/bench-cluster-DATE.jsonl]  PAUSE [2] seconds between cases
#   CONNS [1000]  SENDERS [3]  RATE_LOW [20]  RATE_HIGH [200]  SIZE [64]
#   WARMUP [2s]  DURATION [10s]  DRAIN [5s]  CHATD_PROTO [json]
#   PORT [18480]: node k listens on PORT+k (chatd), PORT+10+k (Centrifugo);
#   the embedded NATS routes on PORT+20+k, nats-server on PORT+30
#   CHATD_ARGS [-send-rate 0 -send-byte-rate 0 -ip-conns 0 -ip-conn-rate 0]
#   (lifts the per-connection and per-address limits that would throttle a
#   load tool that is one host with many clients)
#   PG_URL [a throwaway server]  PG_PID [its postmaster, when PG_URL is set:
#   none, and PostgreSQL's CPU is not counted]
#   CENTRIFUGO_VERSION [latest]  NATS_SERVER_VERSION [v2.15.2]
# Every run is bounded: chatbench stops by itself and servers are stopped.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

SERVERS=${SERVERS:-chatd-1 chatd-3 centrifugo-3}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-1000}
SENDERS=${SENDERS:-3}
RATE_LOW=${RATE_LOW:-20}
RATE_HIGH=${RATE_HIGH:-200}
SIZE=${SIZE:-64}
WARMUP=${WARMUP:-2s}
DURATION=${DURATION:-10s}
DRAIN=${DRAIN:-5s}
PAUSE=${PAUSE:-2}
CHATD_PROTO=${CHATD_PROTO:-json}
PORT=${PORT:-18480}
CHATD_ARGS=${CHATD_ARGS--send-rate 0 -send-byte-rate 0 -ip-conns 0 -ip-conn-rate 0} # set but empty stays empty
PG_URL=${PG_URL:-}
PG_PID=${PG_PID:-}
CENTRIFUGO_VERSION=${CENTRIFUGO_VERSION:-latest}
NATS_SERVER_VERSION=${NATS_SERVER_VERSION:-v2.15.2}
OUT=${OUT:-${TMPDIR:-/tmp}/bench-cluster-$(date +%Y%m%d-%H%M%S).jsonl}

log() { echo "bench-cluster: $*" >&2; }
die() {
	log "$*"
	exit 1
}

for s in $SERVERS; do
	case $s in
	chatd-1 | chatd-3 | centrifugo-3) ;;
	*) die "unknown server '$s' in SERVERS (chatd-1, chatd-3, centrifugo-3)" ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
[[ $CHATD_PROTO == json || $CHATD_PROTO == plain ]] || die "CHATD_PROTO must be json or plain"
[[ $PORT =~ ^[0-9]+$ ]] || die "PORT must be a number"

# procs: the pids of the running server's processes; pg_dir: the throwaway
# PostgreSQL's directory.
procs=()
pg_dir=
cleanup_more() {
	stop_procs
	if [[ -n $pg_dir ]]; then
		./scripts/postgres-test-server stop "$pg_dir" || true
	fi
}
make_scratch

versions=()
log "building chatbench and chatd into $tmp"
go build -o "$tmp/chatbench" ./cmd/chatbench
go build -o "$tmp/chatd" ./cmd/chatd
versions+=("chatd $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- 2>/dev/null || echo '+changes')")

if [[ " $SERVERS " == *" chatd-"* ]]; then
	if [[ -z $PG_URL ]]; then
		# A server of our own, whatever the tests' environment names.
		pg_env=$(env -u CHATD_TEST_POSTGRES -u CHATD_TEST_POSTGRES_DIR ./scripts/postgres-test-server start)
		PG_URL=$(eval "$pg_env" && echo "$CHATD_TEST_POSTGRES")
		pg_dir=$(eval "$pg_env" && echo "$CHATD_TEST_POSTGRES_DIR")
		PG_PID=$(head -1 "$pg_dir/data/postmaster.pid")
	fi
	[[ -z $PG_PID ]] && log "no PG_PID: PostgreSQL's CPU is left out"
	psql=$(printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)
	[[ -x $psql ]] || psql=$(command -v psql) || die "no psql to create the databases with"
	versions+=("$("$psql" --version | sed 's/psql (PostgreSQL)/PostgreSQL/')")
fi
if [[ " $SERVERS " == *" centrifugo-3 "* ]]; then
	log "installing github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION and github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION (minutes)"
	mkdir -p "$tmp/centrifugo"
	(cd "$tmp/centrifugo" && GOBIN=$tmp/centrifugo go install "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION" &&
		GOBIN=$tmp/centrifugo go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION") ||
		die "building Centrifugo or nats-server failed"
	modver() { go version -m "$1" | awk '$1 == "mod" { print $3 }'; }
	versions+=("Centrifugo $(modver "$tmp/centrifugo/centrifugo")" "nats-server $(modver "$tmp/centrifugo/nats-server")")
fi

nodes_of() { [[ $1 == *-3 ]] && echo 3 || echo 1; }

# start_proc NAME ADDR CMD...: starts CMD in the background with its output
# in $tmp/NAME.log, adds it to procs and waits until it accepts connections
# on ADDR.
start_proc() {
	local name=$1 addr=$2
	shift 2
	if port_open "$addr"; then
		die "$addr is already in use"
	fi
	"$@" >"$tmp/$name.log" 2>&1 &
	server_pid=$!
	procs+=("$server_pid")
	await_server "$name" "$addr" "$tmp/$name.log" || return 1
	server_pid= # procs owns it
}

# stop_procs: SIGTERM to all, then SIGKILL to what is left after 15s.
stop_procs() {
	((${#procs[@]} > 0)) || return 0
	kill -TERM "${procs[@]}" 2>/dev/null || true
	local i p
	for ((i = 0; i < 150; i++)); do
		kill -0 "${procs[@]}" 2>/dev/null || break
		sleep 0.1
	done
	for p in "${procs[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	procs=()
}

# start SERVER: starts its processes; sets urls (comma-separated), pids
# and trees (chatbench's -pid and -pid-tree).
starts=0
start() {
	local server=$1 n k
	n=$(nodes_of "$server")
	urls= pids= trees=
	starts=$((starts + 1))
	case $server in
	chatd-*)
		local db=bench_cluster_$$_$starts routes=
		"$psql" "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null || die "cannot create database $db"
		local store=${PG_URL/\/chatd_test\?//$db?}
		[[ $store != "$PG_URL" ]] || die "PG_URL does not name the database chatd_test"
		for ((k = 0; k < n; k++)); do
			routes+=${routes:+,}nats://127.0.0.1:$((PORT + 20 + k))
		done
		for ((k = 0; k < n; k++)); do
			local addr=127.0.0.1:$((PORT + k)) cluster=()
			if ((n > 1)); then
				cluster=(-nats-cluster "127.0.0.1:$((PORT + 20 + k))" -nats-routes "$routes" -node-id "n$k")
			fi
			# shellcheck disable=SC2086 # CHATD_ARGS is a list of flags.
			start_proc "$server-n$k" "$addr" "$tmp/chatd" -addr "$addr" -store "$store" "${cluster[@]}" $CHATD_ARGS ||
				return 1
			urls+=${urls:+,}ws://$addr/ws
			pids+=${pids:+,}${procs[-1]}
		done
		trees=$PG_PID
		;;
	centrifugo-*)
		local nats=127.0.0.1:$((PORT + 30))
		start_proc nats-server "$nats" "$tmp/centrifugo/nats-server" -a 127.0.0.1 -p "${nats##*:}" || return 1
		pids=${procs[-1]}
		for ((k = 0; k < n; k++)); do
			local port=$((PORT + 10 + k))
			cat >"$tmp/centrifugo/n$k.json" <<EOF
{"http_server": {"address": "127.0.0.1", "port": $port},
 "client": {"insecure": true, "allowed_origins": ["*"]},
 "channel": {"without_namespace": {"allow_subscribe_for_client": true, "allow_publish_for_client": true}},
 "broker": {"enabled": true, "type": "nats", "nats": {"url": "nats://$nats"}},
 "log": {"level": "warn"}}
EOF
			start_proc "$server-n$k" "127.0.0.1:$port" "$tmp/centrifugo/centrifugo" -c "$tmp/centrifugo/n$k.json" || return 1
			urls+=${urls:+,}ws://127.0.0.1:$port/connection/websocket
			pids+=,${procs[-1]}
		done
		;;
	esac
}

failures=0

# bench NAME SERVER RATE: one chatbench run, its JSON line appended to OUT.
bench() {
	local name=$1 server=$2 rate=$3 proto=$CHATD_PROTO
	if [[ $server == centrifugo-* ]]; then
		proto=centrifugo
		# chatbench adds " json" to the name of chatd's JSON cases; so
		# that Centrifugo's JSON runs fall in the same cases:
		[[ $CHATD_PROTO != json ]] || name+=" json"
	fi
	log "round $round/$ROUNDS $server $name"
	local args=(-q -json -name "$name" -server "$server" -url "$urls" -proto "$proto" -pid "$pids"
		-conns "$CONNS" -senders "$SENDERS" -rate "$rate" -size "$SIZE"
		-warmup "$WARMUP" -duration "$DURATION" -drain "$DRAIN")
	[[ -n $trees ]] && args+=(-pid-tree "$trees")
	if ! "$tmp/chatbench" "${args[@]}" >"$tmp/one.json"; then
		log "chatbench failed: $server $name"
		failures=$((failures + 1))
	fi
	if [[ -s $tmp/one.json ]]; then
		cat "$tmp/one.json" >>"$OUT"
		"$tmp/chatbench" summarize -baseline none "$tmp/one.json" | tail -1 >&2
	fi
	local p
	for p in "${procs[@]}"; do
		if ! kill -0 "$p" 2>/dev/null; then
			log "a process of $server died during $name"
			failures=$((failures + 1))
			return 1
		fi
	done
	sleep "$PAUSE"
}

: >"$OUT"
log "results in $OUT"
for ((round = 1; round <= ROUNDS; round++)); do
	for server in $SERVERS; do
		if start "$server"; then
			bench "r$RATE_LOW" "$server" "$RATE_LOW" &&
				bench "r$RATE_HIGH" "$server" "$RATE_HIGH" ||
				true
		else
			log "$server did not start"
			failures=$((failures + 1))
		fi
		stop_procs
	done
done

# per_delivery TABLE: CPU per delivery in microseconds, from the medians'
# deliveries/CPU-s.
per_delivery() {
	awk -F'|' '
		function trim(s) { gsub(/^ +| +$/, "", s); return s }
		NR == 1 { for (i = 2; i <= NF; i++) if (trim($i) == "deliveries/CPU-s") col = i; next }
		col && trim($col) + 0 > 0 && trim($3) !~ /\// {
			printf "- %s %s: %.1f µs of CPU per delivery\n", trim($2), trim($3), 1e6 / trim($col)
		}' "$1"
}

summary=${OUT%.jsonl}.md
"$tmp/chatbench" summarize -baseline chatd-1 "$OUT" >"$tmp/table.md"
{
	echo "chatbench cluster: $ROUNDS round(s), median per case, ratio to chatd-1; $CONNS conns in one room spread over the nodes, $SENDERS senders, $SIZE-byte messages, $WARMUP warmup + $DURATION; chatd $CHATD_PROTO; CPU of every process (nodes, PostgreSQL or nats-server); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo "servers: ${versions[*]}"
	echo
	cat "$tmp/table.md"
	echo
	per_delivery "$tmp/table.md"
} | tee "$summary"
log "results: $OUT, table: $summary"
if ((failures > 0)); then
	die "$failures run(s) failed"
fi
