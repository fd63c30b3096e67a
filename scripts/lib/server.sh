# shellcheck shell=bash
# Server lifecycle shared by the benchmark scripts, which source this file.
# They define log (a line on stderr) and die (log, then exit 1), call
# make_scratch for tmp and server_pid (the background server's pid), and,
# for start_server, define addr_of NAME (the server's host:port) and
# launch_server NAME ADDR, which execs the server in the foreground, so that
# the process start_server puts in the background is the server itself and
# the pid it gives chatbench is the one whose CPU and memory are read.

# make_scratch: makes tmp, the script's scratch directory, and traps EXIT
# to stop a server still running, run the script's cleanup_more if it
# defines one, and remove tmp; INT and TERM exit (130) through that trap.
make_scratch() {
	tmp=$(mktemp -d)
	server_pid=
	trap remove_scratch EXIT
	trap 'exit 130' INT TERM
}

remove_scratch() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if declare -F cleanup_more >/dev/null; then
		cleanup_more
	fi
	rm -rf "$tmp"
}

# port_open HOST:PORT: whether something accepts connections there.
port_open() {
	local host=${1%:*} port=${1##*:}
	(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# start_server NAME: starts it in the background with its output in
# $tmp/NAME.log, sets server_pid and waits (at most 10s) until it accepts
# connections. Returns 1 if it does not; dies if ADDR is already in use.
start_server() {
	local name=$1 addr
	addr=$(addr_of "$name")
	if port_open "$addr"; then
		die "$addr is already in use"
	fi
	launch_server "$name" "$addr" >"$tmp/$name.log" 2>&1 &
	server_pid=$!
	await_server "$name" "$addr" "$tmp/$name.log"
}

# await_server NAME ADDR LOGFILE: waits (at most 10s) until the server just
# started as server_pid accepts connections on ADDR. Returns 1, with the
# end of LOGFILE on stderr, if it exits or does not listen in time.
await_server() {
	local name=$1 addr=$2 logfile=$3 i
	for ((i = 0; i < 100; i++)); do
		if port_open "$addr"; then
			return 0
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			tail -20 "$logfile" >&2 || true
			wait "$server_pid" 2>/dev/null || true
			server_pid=
			log "$name exited at start"
			return 1
		fi
		sleep 0.1
	done
	log "$name does not accept connections on $addr after 10s"
	stop_server
	return 1
}

# stop_server: SIGTERM, then SIGKILL if it is still there after 15s.
stop_server() {
	[[ -n $server_pid ]] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# run_bench NAME SERVER URL ARGS...: one chatbench run against server_pid,
# its JSON line appended to OUT and a line of figures on stderr; counts a
# failure in failures. Returns 1 if the server died during the run. Uses
# tmp (where chatbench was built), OUT, round, ROUNDS and PAUSE.
run_bench() {
	local name=$1 server=$2 url=$3
	shift 3
	log "round $round/$ROUNDS $server $name"
	if ! "$tmp/chatbench" -q -json -name "$name" -server "$server" \
		-url "$url" -pid "$server_pid" "$@" >"$tmp/one.json"; then
		log "chatbench failed: $server $name"
		failures=$((failures + 1))
	fi
	if [[ -s $tmp/one.json ]]; then
		cat "$tmp/one.json" >>"$OUT"
		"$tmp/chatbench" summarize -baseline none "$tmp/one.json" | tail -1 >&2
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		log "$server died during $name"
		failures=$((failures + 1))
		return 1
	fi
	sleep "$PAUSE"
}
