#!/usr/bin/env bash
# soak.sh: runs chatd with its default SQLite store under steady fan-out
# load for DURATION and prints the server's RSS every INTERVAL seconds, to
# show that memory stays flat while the stored history grows.
#
# Environment (defaults in brackets): DURATION [600s]  INTERVAL [30]
#   CONNS [1000]  SENDERS [10]  RATE [200] msgs/s  ADDR [127.0.0.1:18482]
# Bounded: chatbench stops after DURATION and the server is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-600s}
INTERVAL=${INTERVAL:-30}
CONNS=${CONNS:-1000}
SENDERS=${SENDERS:-10}
RATE=${RATE:-200}
ADDR=${ADDR:-127.0.0.1:18482}

tmp=$(mktemp -d)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/chatd" ./cmd/chatd
go build -o "$tmp/chatbench" ./cmd/chatbench
"$tmp/chatd" -addr "$ADDR" -send-rate 0 -send-byte-rate 0 -ip-conns 0 -ip-conn-rate 0 -data "$tmp/data" 2>"$tmp/chatd.log" &
pid=$!
sleep 1

"$tmp/chatbench" -url "ws://$ADDR/ws" -conns "$CONNS" -senders "$SENDERS" -rate "$RATE" \
	-duration "$DURATION" -pid "$pid" -q -json >"$tmp/result.json" &
bench=$!

echo "elapsed_s rss_kib db_kib"
start=$(date +%s)
while kill -0 "$bench" 2>/dev/null; do
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	db=$(du -sk "$tmp/data" | cut -f1)
	echo "$(($(date +%s) - start)) $rss $db"
	sleep "$INTERVAL"
done
wait "$bench"
echo "chatbench: $(cat "$tmp/result.json")"
