#!/usr/bin/env bash
# Measures what search's index costs PostgreSQL per stored message: one
# backend stores COMMITS commits of 16 messages like chatbench's (a sender
# id, a sequence number, a unique send time and a shared padded tag) with
# the statements the store's Append sends, synchronous_commit on, and reads
# its own CPU from /proc/self/stat before and after, the final merge of
# the GIN pending list included (autovacuum is off for the table, so no
# other process does that work). Each round runs every variant in turn on
# an emptied table of a schema chatd has migrated, and prints µs of CPU
# per message:
#   on       the schema as chatd leaves it (GIN pending list, 256 kB)
#   off      the GIN index with fastupdate off (entries inserted per row)
#   nobtree  on, without the three partial btrees of search
#   noindex  none of search's indexes (the tsvector still computed)
#   nowords  no tsvector at all
# Usage: scripts/bench-pg-index.sh   (needs psql and a superuser, for
# pg_read_file: set CHATD_TEST_POSTGRES, or the script starts a throwaway
# server with scripts/postgres-test-server)
# Environment (defaults in brackets):
#   VARIANTS [off on]  ROUNDS [3]  COMMITS [4000]  ADDR [127.0.0.1:18383]
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=lib/server.sh
. scripts/lib/server.sh

VARIANTS=${VARIANTS:-off on}
ROUNDS=${ROUNDS:-3}
COMMITS=${COMMITS:-4000}
ADDR=${ADDR:-127.0.0.1:18383}

log() { echo "bench-pg-index: $*" >&2; }
die() {
	log "$*"
	exit 1
}

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
[[ $COMMITS =~ ^[1-9][0-9]*$ ]] || die "COMMITS must be a positive number"
make_scratch
pg_dir=
schema=
cleanup_more() {
	if [[ -n $schema ]]; then
		psql "$CHATD_TEST_POSTGRES" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true
	fi
	if [[ -n $pg_dir ]]; then
		./scripts/postgres-test-server stop "$pg_dir" || true
	fi
}

if [[ -z ${CHATD_TEST_POSTGRES:-} ]]; then
	pg_env=$(./scripts/postgres-test-server start)
	eval "$pg_env"
	pg_dir=${CHATD_TEST_POSTGRES_DIR:-}
fi

# The schema is chatd's: a chatd started on it runs the migrations.
go build -o "$tmp/chatd" ./cmd/chatd
schema="bench_index_$RANDOM$RANDOM"
psql "$CHATD_TEST_POSTGRES" -qc "CREATE SCHEMA $schema" >/dev/null
sep='?'
[[ $CHATD_TEST_POSTGRES == *\?* ]] && sep='&'
port_open "$ADDR" && die "$ADDR is already in use"
"$tmp/chatd" -addr "$ADDR" -store "$CHATD_TEST_POSTGRES${sep}search_path=$schema" >"$tmp/chatd.log" 2>&1 &
server_pid=$!
await_server chatd "$ADDR" "$tmp/chatd.log" || die "chatd did not start"
dsn="$CHATD_TEST_POSTGRES${sep}options=-csearch_path%3D$schema%20-cclient_min_messages%3Dwarning"
sql() { psql "$dsn" -qAtX -v ON_ERROR_STOP=1 "$@"; }
# chatd may listen before its migrations are done.
last=$(find store/postgres/migrations -name '*.sql' | wc -l)
for ((i = 0; i < 300; i++)); do
	[[ $(sql -c "SELECT max(version) FROM schema_version" 2>/dev/null) == "$last" ]] && break
	sleep 0.1
done
((i < 300)) || die "chatd did not migrate $schema to version $last in 30s"
stop_server
sql -c "ALTER TABLE messages SET (autovacuum_enabled = false)"

btrees=(
	"messages_words_time ON messages (time, room, seq)"
	"messages_words_room_time ON messages (room, time, seq)"
	"messages_words_sender_time ON messages (sender, time, room, seq)"
)
# index_as VARIANT: search's indexes as the variant has them.
index_as() {
	local b
	sql -c "DROP INDEX IF EXISTS messages_words, messages_words_time, messages_words_room_time, messages_words_sender_time"
	case $1 in noindex | nowords) return ;; esac
	sql -c "CREATE INDEX messages_words ON messages USING gin (words) WHERE words IS NOT NULL"
	if [[ $1 == off ]]; then
		sql -c "ALTER INDEX messages_words SET (fastupdate = off)"
	else
		sql -c "ALTER INDEX messages_words SET (fastupdate = on, gin_pending_list_limit = 256)"
	fi
	[[ $1 == nobtree ]] && return
	for b in "${btrees[@]}"; do
		sql -c "CREATE INDEX $b WHERE words IS NOT NULL"
	done
}

log "$(uptime)"
for ((round = 1; round <= ROUNDS; round++)); do
	for v in $VARIANTS; do
		case $v in on | off | nobtree | noindex | nowords) ;; *) die "unknown variant '$v'" ;; esac
		words="to_tsvector('chatd_words', t)"
		[[ $v == nowords ]] && words="NULL::tsvector"
		sql -c "TRUNCATE messages"
		index_as "$v"
		sql -c "VACUUM messages" -c "CHECKPOINT"
		ticks=$(sql <<SQL | tail -1
CREATE TEMP TABLE cpu0 AS SELECT (string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' '))[12:13]::bigint[] AS t;
DO \$\$
DECLARE n bigint := 0;
BEGIN
	FOR b IN 1..$COMMITS LOOP
		INSERT INTO messages (room, seq, sender, text, time, kind, words)
			SELECT 'r', n + i, 'u' || (i % 10), convert_to(t, 'UTF8'), now(), '', $words
			FROM (SELECT i, (i % 10) || ' ' || ((n + i) / 10) || ' ' || (1764000000000000000 + (n + i) * 37)
				|| ' 123456789xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' AS t FROM generate_series(1, 16) i) v;
		n := n + 16;
		COMMIT;
	END LOOP;
END \$\$;
SELECT count(gin_clean_pending_list(c.oid)) FROM pg_class c
	WHERE c.relname = 'messages_words' AND c.relnamespace = current_schema()::regnamespace;
SELECT t1[1] + t1[2] - cpu0.t[1] - cpu0.t[2]
	FROM cpu0, (SELECT (string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' '))[12:13]::bigint[] AS t1) x;
SQL
		)
		echo "round $round $v: $((ticks * 1000000 / $(getconf CLK_TCK) / (COMMITS * 16))) µs of backend CPU per message ($(cut -d' ' -f1-3 /proc/loadavg))"
	done
done
log "$(uptime)"
