#!/usr/bin/env bash
# bench-peers.sh: chatd next to other WebSocket broadcast servers ("peers"),
# all on loopback, measured with cmd/chatbench, in one run.
#
# The peers are fetched and built at bench time into a temporary directory
# that is removed at the end; none of their code is kept in this repository:
#   chatd       this repository's ./cmd/chatd, run with CHATD_ARGS
#   gorilla     the gorilla/websocket chat example, `go install
#               github.com/gorilla/websocket/examples/chat@GORILLA_VERSION`
#               (echoes to the sender, merges queued messages with '\n',
#               ignores ?room=)
#   node-ws     a broadcast server on the npm package ws (`npm install
#               ws@WS_VERSION`), its ~25 lines of JavaScript written here at
#               run time: every text message goes to every other client of
#               the sender's ?room=, no echo
#   centrifugo  Centrifugo v6 speaks only its own client protocol and closes
#               a plain-text client (3501 bad request), so chatbench cannot
#               measure it: skipped with a message. CENTRIFUGO=try builds it
#               (`go install github.com/centrifugal/centrifugo/v6@latest`,
#               minutes) and shows the refusal. See docs/bench-peers.md.
#
# For each of ROUNDS rounds and each server of PEERS in turn, it starts the
# server fresh, runs the cases of SCENARIOS against it with -pid (so that its
# CPU and memory are read from /proc) and stops it:
#   idle     IDLE_CONNS connections held for IDLE_DURATION; RSS per
#            connection (run first, on the fresh server)
#   fanout   FANOUT_CONNS conns in one room, FANOUT_SENDERS of them sending
#            FANOUT_RATE msg/s in all, for DURATION
#   window   the same, as fast as a window of WINDOW messages allows
#   churn    (optional) connections opened and closed at CHURN_RATE/s, at
#            most CHURN_CONNS at a time, for CHURN_DURATION
#   rooms    (optional; servers with ?room= only: chatd, node-ws) ROOMS
#            rooms of MEMBERS connections, one sender per room at ROOM_RATE
#            msg/s, for DURATION
# Each result is one JSON line in OUT; at the end a markdown table of the
# medians per case and server, with each peer's ratio to BASELINE, is printed
# (and saved as OUT with .md), followed by the peers that were skipped.
#
# Environment (defaults in brackets):
#   PEERS ["chatd gorilla node-ws centrifugo"]  BASELINE [chatd]  ROUNDS [1]
#   SCENARIOS ["idle fanout window"] (any of idle fanout window churn rooms)
#   OUT [/tmp/bench-peers-DATE.jsonl]  PAUSE [2] seconds between cases
#   FANOUT_CONNS [1000]  FANOUT_SENDERS [10]  FANOUT_RATE [200]  WINDOW [64]
#   SIZE [64]  DURATION [10s]  DRAIN [5s]
#   IDLE_CONNS [5000]  IDLE_DURATION [10s]
#   CHURN_CONNS [50]  CHURN_RATE [500]  CHURN_DURATION [10s]
#   ROOMS [100]  MEMBERS [10]  ROOM_RATE [5]
#   CHATD_ADDR [127.0.0.1:18282]  GORILLA_ADDR [127.0.0.1:18280]
#   NODE_ADDR [127.0.0.1:18281]  CENTRIFUGO_ADDR [127.0.0.1:18283]
#   CHATD_ARGS [-send-rate 0 -send-byte-rate 0 -store memory -ip-conns 0 -ip-conn-rate 0] (lifts chatd's per-connection and per-address
#   send limit and keeps messages in memory, as the peers do; set
#   CHATD_ARGS= for chatd's own defaults)
#   GORILLA_VERSION [v1.5.3]  WS_VERSION [8]  NODE [node]  NPM [npm]
#   CENTRIFUGO [skip] or try  CENTRIFUGO_VERSION [latest]
# Every run is bounded: chatbench stops by itself and servers are stopped.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

PEERS=${PEERS:-chatd gorilla node-ws centrifugo}
BASELINE=${BASELINE:-chatd}
ROUNDS=${ROUNDS:-1}
SCENARIOS=${SCENARIOS:-idle fanout window}
FANOUT_CONNS=${FANOUT_CONNS:-1000}
FANOUT_SENDERS=${FANOUT_SENDERS:-10}
FANOUT_RATE=${FANOUT_RATE:-200}
WINDOW=${WINDOW:-64}
SIZE=${SIZE:-64}
DURATION=${DURATION:-10s}
DRAIN=${DRAIN:-5s}
IDLE_CONNS=${IDLE_CONNS:-5000}
IDLE_DURATION=${IDLE_DURATION:-10s}
CHURN_CONNS=${CHURN_CONNS:-50}
CHURN_RATE=${CHURN_RATE:-500}
CHURN_DURATION=${CHURN_DURATION:-10s}
ROOMS=${ROOMS:-100}
MEMBERS=${MEMBERS:-10}
ROOM_RATE=${ROOM_RATE:-5}
PAUSE=${PAUSE:-2}
CHATD_ADDR=${CHATD_ADDR:-127.0.0.1:18282}
GORILLA_ADDR=${GORILLA_ADDR:-127.0.0.1:18280}
NODE_ADDR=${NODE_ADDR:-127.0.0.1:18281}
CENTRIFUGO_ADDR=${CENTRIFUGO_ADDR:-127.0.0.1:18283}
CHATD_ARGS=${CHATD_ARGS--send-rate 0 -send-byte-rate 0 -store memory -ip-conns 0 -ip-conn-rate 0} # set but empty stays empty
GORILLA_VERSION=${GORILLA_VERSION:-v1.5.3}
WS_VERSION=${WS_VERSION:-8}
NODE=${NODE:-node}
NPM=${NPM:-npm}
CENTRIFUGO=${CENTRIFUGO:-skip}
CENTRIFUGO_VERSION=${CENTRIFUGO_VERSION:-latest}
OUT=${OUT:-${TMPDIR:-/tmp}/bench-peers-$(date +%Y%m%d-%H%M%S).jsonl}

log() { echo "bench-peers: $*" >&2; }
die() {
	log "$*"
	exit 1
}

for s in $PEERS; do
	case $s in
	chatd | gorilla | node-ws | centrifugo) ;;
	*) die "unknown server '$s' in PEERS (chatd, gorilla, node-ws, centrifugo)" ;;
	esac
done
for s in $SCENARIOS; do
	case $s in
	idle | fanout | window | churn | rooms) ;;
	*) die "unknown scenario '$s' in SCENARIOS (idle, fanout, window, churn, rooms)" ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
[[ $CENTRIFUGO == skip || $CENTRIFUGO == try ]] || die "CENTRIFUGO must be skip or try"

make_scratch

# skipped: one line per peer left out, printed with the table.
skipped=()
skip() {
	log "SKIPPED $1: $2"
	skipped+=("$1: $2")
}
servers=()
# versions: what was built, for the table's header.
versions=()

centrifugo_reason="Centrifugo speaks only its own client protocol (JSON or Protobuf commands: connect, subscribe, publish), not plain-text broadcast, so it has no place in this plain-text table; scripts/bench-cluster.sh measures it with chatbench -proto centrifugo (see docs/bench-peers.md)"

log "building chatbench into $tmp"
go build -o "$tmp/chatbench" ./cmd/chatbench

for s in $PEERS; do
	case $s in
	chatd)
		if [[ ! -d cmd/chatd ]]; then
			skip chatd "there is no ./cmd/chatd"
			continue
		fi
		log "building chatd"
		if go build -o "$tmp/chatd" ./cmd/chatd; then
			servers+=(chatd)
			versions+=("chatd $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- 2>/dev/null || echo '+changes')")
		else
			skip chatd "go build ./cmd/chatd failed"
		fi
		;;
	gorilla)
		log "installing github.com/gorilla/websocket/examples/chat@$GORILLA_VERSION"
		mkdir -p "$tmp/gorilla"
		if (cd "$tmp/gorilla" && GOBIN=$tmp/gorilla go install "github.com/gorilla/websocket/examples/chat@$GORILLA_VERSION"); then
			servers+=(gorilla)
			versions+=("gorilla chat example $GORILLA_VERSION")
		else
			skip gorilla "go install github.com/gorilla/websocket/examples/chat@$GORILLA_VERSION failed"
		fi
		;;
	node-ws)
		if ! command -v "$NODE" >/dev/null || ! command -v "$NPM" >/dev/null; then
			skip node-ws "no $NODE or $NPM on PATH"
			continue
		fi
		mkdir -p "$tmp/node-ws"
		# The server: a plain-text broadcast over the ws package. Every
		# text message goes to every other open client of the sender's
		# room (the URL's ?room=, "" without one), not back to the sender.
		cat >"$tmp/node-ws/server.js" <<'EOF'
'use strict';
const { WebSocketServer, WebSocket } = require('ws');
const addr = process.argv[2] || '127.0.0.1:18281';
const i = addr.lastIndexOf(':');
const wss = new WebSocketServer({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)), path: '/ws' });
const rooms = new Map(); // room name -> Set of clients
wss.on('connection', (ws, req) => {
  const room = new URL(req.url, 'http://x').searchParams.get('room') || '';
  if (!rooms.has(room)) rooms.set(room, new Set());
  const members = rooms.get(room);
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const c of members) {
      if (c !== ws && c.readyState === WebSocket.OPEN) c.send(data, { binary: false });
    }
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`node-ws listening on ${addr}, ws ${require('ws/package.json').version}`));
process.on('SIGTERM', () => process.exit(0));
EOF
		log "installing ws@$WS_VERSION with npm into $tmp/node-ws ($("$NODE" --version))"
		if (cd "$tmp/node-ws" && "$NPM" install --no-audit --no-fund --no-save --loglevel=error "ws@$WS_VERSION" >&2); then
			servers+=(node-ws)
			versions+=("node-ws: ws $(cd "$tmp/node-ws" && "$NODE" -p "require('ws/package.json').version") on node $("$NODE" --version)")
		else
			skip node-ws "npm install ws@$WS_VERSION failed"
		fi
		;;
	centrifugo)
		if [[ $CENTRIFUGO != try ]]; then
			skip centrifugo "not built (CENTRIFUGO=try builds it, in minutes, and shows that it closes a plain-text client with 3501 bad request). $centrifugo_reason"
			continue
		fi
		log "installing github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION (this takes minutes)"
		mkdir -p "$tmp/centrifugo"
		if ! (cd "$tmp/centrifugo" && GOBIN=$tmp/centrifugo go install "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION"); then
			skip centrifugo "go install github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION failed"
			continue
		fi
		# It built: show what a plain-text client gets, then leave it out.
		servers+=(centrifugo-probe)
		;;
	esac
done
((${#servers[@]} > 0)) || die "no server to benchmark"

addr_of() {
	case $1 in
	chatd) echo "$CHATD_ADDR" ;;
	gorilla) echo "$GORILLA_ADDR" ;;
	node-ws) echo "$NODE_ADDR" ;;
	centrifugo-probe) echo "$CENTRIFUGO_ADDR" ;;
	esac
}

url_of() {
	case $1 in
	centrifugo-probe) echo "ws://$CENTRIFUGO_ADDR/connection/websocket" ;;
	*) echo "ws://$(addr_of "$1")/ws" ;;
	esac
}

# launch_server NAME ADDR: execs NAME's server on ADDR (see lib/server.sh).
launch_server() {
	local addr=$2
	case $1 in
	chatd)
		# shellcheck disable=SC2086 # CHATD_ARGS is a list of flags.
		exec "$tmp/chatd" -addr "$addr" $CHATD_ARGS
		;;
	gorilla)
		# The example serves home.html from its working directory for /.
		cd "$tmp/gorilla" && exec ./chat -addr "$addr"
		;;
	node-ws)
		cd "$tmp/node-ws" && exec "$NODE" server.js "$addr"
		;;
	centrifugo-probe)
		cat >"$tmp/centrifugo/config.json" <<EOF
{"http_server": {"address": "${addr%:*}", "port": ${addr##*:}},
 "client": {"insecure": true, "allowed_origins": ["*"]},
 "channel": {"without_namespace": {"allow_subscribe_for_client": true, "allow_publish_for_client": true}}}
EOF
		cd "$tmp/centrifugo" && exec ./centrifugo -c config.json
		;;
	esac
}

failures=0

# bench NAME SERVER ARGS...: one chatbench run, its JSON line appended to OUT.
bench() {
	local name=$1 server=$2
	shift 2
	run_bench "$name" "$server" "$(url_of "$server")" "$@"
}

# has_rooms SERVER: whether it keeps the rooms of ?room= apart.
has_rooms() { [[ $1 == chatd || $1 == node-ws ]]; }

# run_cases SERVER: SCENARIOS against the running SERVER, idle first.
run_cases() {
	local server=$1 s
	local fanout=(-scenario fanout -conns "$FANOUT_CONNS" -senders "$FANOUT_SENDERS" -duration "$DURATION" -drain "$DRAIN" -size "$SIZE")
	for s in idle fanout window churn rooms; do
		[[ " $SCENARIOS " == *" $s "* ]] || continue
		case $s in
		idle) bench idle "$server" -scenario idle -conns "$IDLE_CONNS" -duration "$IDLE_DURATION" ;;
		fanout) bench "fanout-r$FANOUT_RATE" "$server" "${fanout[@]}" -rate "$FANOUT_RATE" ;;
		window) bench fanout-window "$server" "${fanout[@]}" -rate 0 -window "$WINDOW" ;;
		churn) bench churn "$server" -scenario churn -conns "$CHURN_CONNS" -rate "$CHURN_RATE" -duration "$CHURN_DURATION" ;;
		rooms)
			if ! has_rooms "$server"; then
				((round > 1)) || skip "$server rooms" "it ignores ?room= (every room's messages would go to everyone)"
				continue
			fi
			bench "rooms-${ROOMS}x$MEMBERS" "$server" -scenario rooms -rooms "$ROOMS" -members "$MEMBERS" \
				-rate "$ROOM_RATE" -duration "$DURATION" -drain "$DRAIN" -size "$SIZE"
			;;
		esac || return 1
	done
}

# probe_centrifugo: what a plain-text client gets from Centrifugo.
probe_centrifugo() {
	log "centrifugo built; a plain-text fanout of 3 connections against it:"
	"$tmp/chatbench" -q -conns 3 -senders 1 -rate 10 -duration 1s -drain 1s -connect-timeout 2s \
		-url "$(url_of centrifugo-probe)" >"$tmp/centrifugo.txt" 2>&1 || true
	sed 's/^/    /' "$tmp/centrifugo.txt" >&2
	local why version
	why=$(grep -o 'closed by server: [^"]*' "$tmp/centrifugo.txt" | head -1 || true)
	version=$(go version -m "$tmp/centrifugo/centrifugo" 2>/dev/null | awk '$1 == "mod" { print $3 }')
	skip centrifugo "built ${version:-?}; a plain-text client got ${why:-no broadcast}. $centrifugo_reason"
}

: >"$OUT"
log "results in $OUT"
for ((round = 1; round <= ROUNDS; round++)); do
	for server in "${servers[@]}"; do
		if [[ $server == centrifugo-probe ]]; then
			if ((round == 1)); then
				if start_server "$server"; then
					probe_centrifugo
				else
					skip centrifugo "built, but it did not start"
				fi
				stop_server
			fi
			continue
		fi
		if ! start_server "$server"; then
			failures=$((failures + 1))
			continue
		fi
		run_cases "$server" || true
		stop_server
	done
done

# join ITEM...: the items separated by "; ".
join() {
	local IFS=';' s
	s="$*"
	echo "${s//;/; }"
}

# what: the parameters of the cases run, for the table's header.
what=()
for s in $SCENARIOS; do
	case $s in
	idle) what+=("idle $IDLE_CONNS conns, $IDLE_DURATION") ;;
	fanout) what+=("fanout $FANOUT_CONNS conns x $FANOUT_SENDERS senders at $FANOUT_RATE msg/s, $SIZE bytes, $DURATION") ;;
	window) what+=("window $FANOUT_CONNS conns x $FANOUT_SENDERS senders, window $WINDOW msgs, $DURATION") ;;
	churn) what+=("churn $CHURN_RATE connects/s, at most $CHURN_CONNS open, $CHURN_DURATION") ;;
	rooms) what+=("rooms $ROOMS x $MEMBERS members at $ROOM_RATE msg/s each, $DURATION") ;;
	esac
done

summary=${OUT%.jsonl}.md
{
	echo "chatbench peers: $ROUNDS round(s), median per case, ratio to $BASELINE, $(nproc) CPUs;" \
		"$(join "${what[@]}")"
	if ((${#versions[@]} > 0)); then
		echo "servers: $(join "${versions[@]}")"
	fi
	echo
	if [[ -s $OUT ]]; then
		"$tmp/chatbench" summarize -baseline "$BASELINE" "$OUT"
	else
		echo "(no results)"
	fi
	if ((${#skipped[@]} > 0)); then
		echo
		echo "Skipped:"
		for s in "${skipped[@]}"; do
			echo "- $s"
		done
	fi
} | tee "$summary"
log "results: $OUT, table: $summary"
if ((failures > 0)); then
	die "$failures run(s) failed"
fi
