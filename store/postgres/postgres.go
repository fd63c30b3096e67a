// Package postgres owns chatd's store.Store and store.Accounts in a
// PostgreSQL database: the connection pool, the schema and its migrations.
//
// It uses github.com/jackc/pgx/v5 and its pool, pgxpool, directly (not
// through database/sql), for binary arrays and pipelined batches: an Append
// is one round trip, its whole transaction (BEGIN, the counters, the
// messages, COMMIT) sent together, the messages going in as one
// INSERT ... SELECT FROM unnest(arrays) however many there are.
//
// # Where the tables go
//
// The tables are created in the first schema of the connection's
// search_path, normally public. To keep chatd's tables apart in a shared
// database, create a schema and name it in the DSN:
// postgres://chatd@db/app?search_path=chatd. The database's encoding must be
// UTF8 (or SQL_ASCII); Open checks it. Search folds accents with
// contrib's unaccent extension (Debian's and the official packages have
// it): Open's migration uses it where the database has it installed, and
// otherwise installs it in chatd's schema, which a user who may create
// objects in the database may do.
//
// # Durability
//
// Append returns after COMMIT, and its transaction sets synchronous_commit
// to on, whatever the server's default: the commit is flushed to the
// server's write-ahead log (and to synchronous standbys, if the server has
// any) before Append returns. An acknowledged Append therefore survives a
// crash of chatd, of PostgreSQL and of the machine, as long as the server
// runs with fsync on (its default).
//
// # Several chatd processes
//
// Unlike the SQLite adapter nothing stops two chatd processes from using
// one database. Migrations are serialized by an advisory lock, and the
// per-room counter row is locked for the length of an Append, so two
// processes can never store the same Seq twice: the second fails with
// store.ErrSeqConflict. In a cluster the processes leave the numbering to
// the store (AppendNumbered, store.Sequencer): the same counter row, moved
// forward inside the appending transaction, serialises a room's writers.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/migrate"
	"github.com/chatd/chatd/store/internal/span"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// trimChunk is how many messages one Trim transaction deletes at most.
const trimChunk = 1000

// Store is a store.Store and a store.Accounts in a PostgreSQL database. It
// is safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	closeOnce sync.Once
}

// defaultMaxConns is the pool size when the DSN names none.
const defaultMaxConns = 16

// Open connects to the PostgreSQL database named by dsn (a URL or
// key=value connection string, as libpq and pgx accept them; pool settings
// such as pool_max_conns too) and migrates its schema to the newest version
// this binary knows. It fails with an error wrapping store.ErrSchemaTooNew
// if the database was migrated by a newer chatd. Without pool_max_conns
// the pool holds up to defaultMaxConns connections.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default is max(4, CPUs). chatd commits on several
		// journals at once (four by default) while joins, history reads
		// and account lookups need connections too, so four would make
		// them queue behind commits.
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.open(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: %s@%s:%d/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	var enc string
	if err := s.pool.QueryRow(ctx, `SHOW server_encoding`).Scan(&enc); err != nil {
		return fmt.Errorf("reading the encoding: %w", err)
	}
	if enc != "UTF8" && enc != "SQL_ASCII" {
		return fmt.Errorf("the database's encoding is %s; chatd needs UTF8", enc)
	}
	return s.migrate(ctx)
}

// migrate applies, each in its own transaction, the migrations the
// database has not had yet.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	for {
		done, err := s.migrateStep(ctx, ms)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the next migration, if any, in one transaction. An
// advisory lock on the schema keeps concurrent Opens from migrating at
// once.
func (s *Store) migrateStep(ctx context.Context, ms []migrate.Migration) (done bool, err error) {
	latest := ms[len(ms)-1].Version
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("reading the schema version: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('chatd migrations ' || current_schema()))`); err != nil {
		return false, fmt.Errorf("locking for migrations: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
		return false, fmt.Errorf("reading the schema version: %w", err)
	}
	var v int
	switch err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return false, fmt.Errorf("initializing the schema version: %w", err)
		}
	case err != nil:
		return false, fmt.Errorf("reading the schema version: %w", err)
	}
	if v > latest {
		return false, fmt.Errorf("schema version %d, this chatd knows versions up to %d: %w", v, latest, store.ErrSchemaTooNew)
	}
	if v == latest {
		return true, tx.Commit(ctx)
	}
	m := ms[v] // version v+1
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, m.Version); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	return false, nil
}

// Close closes the pool, after the calls in progress return their
// connections. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// Ping implements store.Store and store.Accounts: one round trip, which
// also fails on a standby (in recovery) or a database that is read-only
// by default, where every write would fail.
func (s *Store) Ping(ctx context.Context) error {
	var readOnly bool
	err := s.pool.QueryRow(ctx, `SELECT pg_is_in_recovery() OR current_setting('default_transaction_read_only')::bool`).Scan(&readOnly)
	switch {
	case err != nil:
		return fmt.Errorf("postgres store: ping: %w", err)
	case readOnly:
		return errors.New("postgres store: ping: the database is read-only")
	}
	return nil
}

// LastSeq implements store.Store.
func (s *Store) LastSeq(ctx context.Context, room string) (uint64, error) {
	var last int64
	err := s.pool.QueryRow(ctx, `SELECT last_seq FROM room_seqs WHERE room = $1`, room).Scan(&last)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("postgres store: last seq of %q: %w", room, err)
	}
	return span.Seq(last), nil
}

const selectMessage = `SELECT room, seq, sender, text, client_msg_id, time, kind, target, edited, deleted,
	reply_to, thread, also_room, replies, last_reply_seq, last_reply FROM messages `

// After implements store.Store.
func (s *Store) After(ctx context.Context, room string, after uint64, limit int) ([]store.Message, error) {
	lo, ok := span.After(after)
	if !ok || limit <= 0 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectMessage+`WHERE room = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, room, lo, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres store: messages of %q after %d: %w", room, after, err)
	}
	if err := s.withReactions(ctx, msgs); err != nil {
		return nil, fmt.Errorf("postgres store: reactions of %q after %d: %w", room, after, err)
	}
	return msgs, nil
}

// Before implements store.Store.
func (s *Store) Before(ctx context.Context, room string, before uint64, limit int) ([]store.Message, error) {
	hi, ok := span.Before(before)
	if !ok || limit <= 0 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectMessage+`WHERE room = $1 AND seq <= $2 ORDER BY seq DESC LIMIT $3`, room, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres store: messages of %q before %d: %w", room, before, err)
	}
	slices.Reverse(msgs)
	if err := s.withReactions(ctx, msgs); err != nil {
		return nil, fmt.Errorf("postgres store: reactions of %q before %d: %w", room, before, err)
	}
	return msgs, nil
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]store.Message, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var msgs []store.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

func scanMessage(row pgx.Row) (store.Message, error) {
	var (
		m           store.Message
		seq, target int64
		text, cmid  []byte
		tm          time.Time
		edited      *time.Time
		replyTo     int64
		thread      int64
		lastReply   int64
		lastReplyAt *time.Time
	)
	if err := row.Scan(&m.Room, &seq, &m.From, &text, &cmid, &tm, &m.Change, &target, &edited, &m.Deleted,
		&replyTo, &thread, &m.AlsoRoom, &m.Summary.Replies, &lastReply, &lastReplyAt); err != nil {
		return store.Message{}, err
	}
	m.Seq, m.Text, m.ClientMsgID, m.Time = span.Seq(seq), string(text), string(cmid), tm.UTC()
	m.Target = span.Seq(target)
	m.ReplyTo, m.Thread, m.Summary.LastReply = span.Seq(replyTo), span.Seq(thread), span.Seq(lastReply)
	if lastReplyAt != nil {
		m.Summary.LastReplyTime = lastReplyAt.UTC()
	}
	if edited != nil {
		m.Edited = edited.UTC()
	}
	return m, nil
}

// Oldest implements store.Store.
func (s *Store) Oldest(ctx context.Context, room string) (uint64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT seq FROM messages WHERE room = $1 ORDER BY seq LIMIT 1`, room).Scan(&seq)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("postgres store: oldest of %q: %w", room, err)
	}
	return span.Seq(seq), nil
}

// FindClientMsg implements store.Store.
func (s *Store) FindClientMsg(ctx context.Context, room, from, clientMsgID string) (store.Message, bool, error) {
	if clientMsgID == "" {
		return store.Message{}, false, nil
	}
	// client_msg_id <> '' lets PostgreSQL use the partial index.
	m, err := scanMessage(s.pool.QueryRow(ctx, selectMessage+`WHERE room = $1 AND sender = $2 AND client_msg_id = $3
		AND client_msg_id <> ''::bytea ORDER BY seq DESC LIMIT 1`, room, from, []byte(clientMsgID)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Message{}, false, nil
	case err != nil:
		return store.Message{}, false, fmt.Errorf("postgres store: finding client message %q of %q in %q: %w", clientMsgID, from, room, err)
	}
	return m, true, nil
}

// Trim implements store.Store. For each room it finds the highest Seq to
// delete, then deletes up to it in transactions of at most trimChunk
// messages, each of which locks only the rows it deletes.
func (s *Store) Trim(ctx context.Context, now time.Time, maxAge time.Duration, maxPerRoom int) (int64, error) {
	if maxAge <= 0 && maxPerRoom <= 0 {
		return 0, nil
	}
	rooms, err := s.rooms(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres store: trim: %w", err)
	}
	var total int64
	for _, room := range rooms {
		upTo, err := s.trimBound(ctx, room, now, maxAge, maxPerRoom)
		if err != nil {
			return total, fmt.Errorf("postgres store: trim %q: %w", room, err)
		}
		for upTo > 0 {
			tag, err := s.pool.Exec(ctx, `DELETE FROM messages WHERE room = $1 AND seq IN
				(SELECT seq FROM messages WHERE room = $1 AND seq <= $2 ORDER BY seq LIMIT $3)`,
				room, upTo, trimChunk)
			if err != nil {
				return total, fmt.Errorf("postgres store: trim %q: %w", room, err)
			}
			total += tag.RowsAffected()
			if tag.RowsAffected() < trimChunk {
				break
			}
		}
		if upTo > 0 {
			n, err := s.trimChanges(ctx, room, upTo)
			total += n
			if err != nil {
				return total, fmt.Errorf("postgres store: trim %q: %w", room, err)
			}
			if _, err := s.pool.Exec(ctx, `DELETE FROM mentions WHERE room = $1 AND seq <= $2`, room, upTo); err != nil {
				return total, fmt.Errorf("postgres store: trim mentions of %q: %w", room, err)
			}
			// The ids of removed messages are free again, as FindClientMsg
			// no longer finds them.
			if _, err := s.pool.Exec(ctx, `DELETE FROM client_msg_ids c WHERE c.room = $1 AND NOT EXISTS
				(SELECT 1 FROM messages m WHERE m.room = c.room AND m.sender = c.sender AND m.client_msg_id = c.client_msg_id
				AND m.client_msg_id <> ''::bytea)`, room); err != nil {
				return total, fmt.Errorf("postgres store: trim %q: %w", room, err)
			}
		}
	}
	return total, nil
}

// rooms lists every room that ever had a message.
func (s *Store) rooms(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT room FROM room_seqs ORDER BY room`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// trimBound returns the highest Seq of room that retention deletes, 0 for
// none: everything below the maxPerRoom-th newest message and below the
// oldest message that is not older than maxAge.
func (s *Store) trimBound(ctx context.Context, room string, now time.Time, maxAge time.Duration, maxPerRoom int) (int64, error) {
	var upTo int64
	if maxPerRoom > 0 {
		var keep int64
		err := s.pool.QueryRow(ctx, `SELECT seq FROM messages WHERE room = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2`,
			room, maxPerRoom-1).Scan(&keep)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // no more than maxPerRoom
		case err != nil:
			return 0, err
		default:
			upTo = max(upTo, keep-1)
		}
	}
	if maxAge > 0 {
		var keep int64
		err := s.pool.QueryRow(ctx, `SELECT seq FROM messages WHERE room = $1 AND time >= $2 ORDER BY seq LIMIT 1`,
			room, now.Add(-maxAge)).Scan(&keep)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // all are too old
			upTo = math.MaxInt64
		case err != nil:
			return 0, err
		default:
			upTo = max(upTo, keep-1)
		}
	}
	return upTo, nil
}

// SetRead implements store.Store.
func (s *Store) SetRead(ctx context.Context, user, room string, seq uint64) error {
	if seq > math.MaxInt64 {
		return fmt.Errorf("postgres store: read position %d of %q in %q is out of range", seq, user, room)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO read_positions (user_name, room, seq) VALUES ($1, $2, $3)
		ON CONFLICT (user_name, room) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > read_positions.seq`,
		user, room, int64(seq))
	if err != nil {
		return fmt.Errorf("postgres store: read position of %q in %q: %w", user, room, err)
	}
	return nil
}

// ReadPositions implements store.Store.
func (s *Store) ReadPositions(ctx context.Context, user string) (map[string]uint64, error) {
	rows, err := s.pool.Query(ctx, `SELECT room, seq FROM read_positions WHERE user_name = $1`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres store: read positions of %q: %w", user, err)
	}
	defer rows.Close()
	pos := make(map[string]uint64)
	for rows.Next() {
		var (
			room string
			seq  int64
		)
		if err := rows.Scan(&room, &seq); err != nil {
			return nil, fmt.Errorf("postgres store: read positions of %q: %w", user, err)
		}
		pos[room] = span.Seq(seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: read positions of %q: %w", user, err)
	}
	return pos, nil
}
