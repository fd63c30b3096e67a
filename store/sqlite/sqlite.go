// Package sqlite owns chatd's store.Store and store.Accounts in one SQLite
// database file: the connections to it, its schema and migrations, and the
// lock that keeps a second chatd process away from it.
//
// # Driver
//
// It uses modernc.org/sqlite, SQLite translated to pure Go: no cgo, so
// chatd still builds with nothing but the Go toolchain and cross-compiles
// to any platform. github.com/mattn/go-sqlite3 (cgo) is the usual
// alternative, and is not needed for throughput: Append commits a whole
// batch in one transaction, so the commit's fsync and SQLite's own b-tree
// work dominate, not the driver. In a side-by-side run of the same schema
// and Append (batches of 100 and 1000 messages, synchronous=FULL) on the
// project's 2-core machine, mattn was no faster than modernc.
//
// # Connections
//
// A Store holds two pools on the same file. Every write (Append, Trim,
// SetRead, the accounts' writes, migrations) goes through a pool of exactly
// one connection, so writes are serialized in the process and never fail
// with SQLITE_BUSY against each other; its transactions start with BEGIN
// IMMEDIATE. Reads go through a separate pool of query-only connections,
// which WAL lets run while a write is in progress. Each connection waits up
// to 5 s for a lock held by another process (busy_timeout) before it
// reports "database is locked".
//
// # Durability
//
// The database is in WAL mode with synchronous=FULL: a commit, and so
// Append, returns only after the write-ahead log has been fsynced. Every
// acknowledged Append therefore survives both kill -9 of chatd and a power
// loss or kernel crash (as far as the disk honours fsync). With
// synchronous=NORMAL, which SQLite recommends for WAL, an acknowledged
// transaction survives kill -9 but may be rolled back by a power loss; chatd
// does not use it because a lost Append would make LastSeq go back and a
// room reuse sequence numbers its clients have already seen. Append commits
// a batch at a time, so FULL costs one fsync per batch, not per message.
//
// # One process
//
// Open takes an exclusive lock (flock) on a file next to the database,
// named like it with ".lock" appended, and keeps it until Close. A second
// Open of the same database, from this process or another, fails at once
// with an error naming the process that holds it, instead of two chatd
// processes handing out the same sequence numbers. The operating system
// releases the lock when the process dies, even by kill -9, so there is
// never a stale lock to clean up. (On systems without flock there is no such
// lock.)
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/migrate"
	"github.com/chatd/chatd/store/internal/span"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeout is how long a connection waits for a lock that another
// process holds. Tests shorten it.
var busyTimeout = 5 * time.Second

// trimChunk is how many messages one Trim transaction deletes at most.
const trimChunk = 1000

// Store is a store.Store and a store.Accounts in a SQLite database file.
// It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // exactly one connection: every write
	r    *sql.DB // query-only connections: every read
	lock *fileLock
	ins  appendStmts // on w
	// reads are preparedReads, on r; set once at open.
	reads map[string]*sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

// Open opens the SQLite database at path, creating it and its parent
// directory if they are missing, and migrates its schema to the newest
// version this binary knows. It fails with an error wrapping
// store.ErrSchemaTooNew if the database was migrated by a newer chatd, and
// with a descriptive error if the path cannot be created or opened, is not
// a SQLite database, or is in use by another Store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite store: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("sqlite store: %s is a directory, not a database file", abs)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite store: creating the directory of the database: %w", err)
	}
	lock, err := lockFile(abs + ".lock")
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %s: %w", abs, err)
	}
	s := &Store{path: abs, lock: lock}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite store: %s: %w", abs, err)
	}
	return s, nil
}

// dsn is the modernc.org/sqlite data source name for the file at abs with
// the given query parameters. A file: URI keeps any '?' or '#' in the path
// from being taken for parameters.
func dsn(abs string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: abs, RawQuery: params.Encode()}
	return u.String()
}

func (s *Store) open(ctx context.Context) error {
	busy := strconv.FormatInt(busyTimeout.Milliseconds(), 10)
	w, err := sql.Open("sqlite", dsn(s.path, url.Values{
		"_busy_timeout": {busy},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
		// 8 MiB of page cache instead of SQLite's 2 MiB: a batch spread
		// over many rooms dirties a leaf page per room, and with the small
		// cache those pages were read back and spilled to the WAL within
		// the transaction (see docs/benchmarks.md, "Store appends alone").
		//
		// A checkpoint every 10,000 WAL pages (40 MiB) instead of every
		// 1,000: it runs inside the commit that crosses the threshold, on
		// the one writer, and a busy room's leaf page is in the WAL once
		// per commit but copied to the database once per checkpoint, so
		// rarer checkpoints write less and fsync the database less often.
		// journal_size_limit cuts the WAL file back to 64 MiB when it is
		// reused, so a burst does not leave it large.
		//
		// Temporary files in memory: an INSERT of many rows whose trigger
		// writes the search index keeps a statement journal, and SQLite
		// spills one past 64 KiB to a temporary file, a write and a read
		// back per page; it only undoes a failed statement within its
		// transaction, so where it is kept changes nothing that is durable.
		"_pragma": {"cache_size(-8192)", "wal_autocheckpoint(10000)", "journal_size_limit(67108864)", "temp_store(2)"},
	}))
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.w = w
	if err := s.checkIntegrity(ctx); err != nil {
		return err
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if err := s.prepareAppend(ctx); err != nil {
		return err
	}

	r, err := sql.Open("sqlite", dsn(s.path, url.Values{
		"_busy_timeout": {busy},
		"_query_only":   {"1"},
	}))
	if err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		return fmt.Errorf("opening a reader: %w", describe(err))
	}
	return s.prepareReads(ctx)
}

// checkIntegrity refuses a corrupt database before chatd serves from it,
// where every read of a damaged page would fail. PRAGMA quick_check reads
// every page but skips the index cross-checks of integrity_check, so it
// takes about as long as reading the file once; it stops at the first
// problem.
func (s *Store) checkIntegrity(ctx context.Context) error {
	var result string
	err := s.w.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&result)
	switch {
	case err != nil:
		return fmt.Errorf("checking the database: %w", describe(err))
	case result != "ok":
		return fmt.Errorf("the database is corrupt (PRAGMA quick_check: %s): restore it from a backup, or move it aside to start with an empty one", result)
	}
	return nil
}

// migrate applies, each in its own transaction, the migrations the
// database has not had yet.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].Version
	for {
		done, err := s.migrateStep(ctx, ms, latest)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the next migration, if any, in one transaction.
func (s *Store) migrateStep(ctx context.Context, ms []migrate.Migration, latest int) (done bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("reading the schema version: %w", describe(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return false, fmt.Errorf("reading the schema version: %w", describe(err))
	}
	var v int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return false, fmt.Errorf("initializing the schema version: %w", describe(err))
		}
	case err != nil:
		return false, fmt.Errorf("reading the schema version: %w", describe(err))
	}
	if v > latest {
		return false, fmt.Errorf("schema version %d, this chatd knows versions up to %d: %w", v, latest, store.ErrSchemaTooNew)
	}
	if v == latest {
		return true, tx.Commit()
	}
	m := ms[v] // version v+1
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, describe(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, m.Version); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, describe(err))
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, describe(err))
	}
	return false, nil
}

// describe adds what to do to the SQLite errors an operator can meet.
func describe(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w (another process holds a lock on the database for more than %v)", err, busyTimeout)
	case sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%w (the file is not a SQLite database)", err)
	case sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%w (the database is corrupt: restore it from a backup, or move it aside to start with an empty one)", err)
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%w (check the path and its permissions)", err)
	}
	return err
}

// Close closes the database and releases the lock. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.r != nil {
			errs = append(errs, s.closeReads(), s.r.Close())
		}
		if s.w != nil {
			errs = append(errs, s.ins.close(), s.w.Close())
		}
		if s.lock != nil {
			errs = append(errs, s.lock.unlock())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Ping implements store.Store and store.Accounts: a read on a reader
// connection, and a write transaction begun and rolled back on the writer,
// which fails if the file cannot be written.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM messages LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite store: ping: read: %w", describe(err))
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: ping: write: %w", describe(err))
	}
	if err := tx.Rollback(); err != nil {
		return fmt.Errorf("sqlite store: ping: write: %w", describe(err))
	}
	return nil
}

// LastSeq implements store.Store.
func (s *Store) LastSeq(ctx context.Context, room string) (uint64, error) {
	var last int64
	err := s.r.QueryRowContext(ctx, `SELECT last_seq FROM room_seqs WHERE room = ?`, room).Scan(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("sqlite store: last seq of %q: %w", room, describe(err))
	}
	return span.Seq(last), nil
}

const selectMessage = `SELECT room, seq, sender, text, client_msg_id, time_us, kind, target, edited_us, deleted,
	reply_to, thread, also_room, replies, last_reply_seq, last_reply_us FROM messages `

// joinedMessageColumns are selectMessage's columns of the messages table
// named m in a join (search hits, mentions), as scanMessage reads them.
const joinedMessageColumns = `m.room, m.seq, m.sender, m.text, m.client_msg_id, m.time_us, m.kind, m.target, m.edited_us, m.deleted,
	m.reply_to, m.thread, m.also_room, m.replies, m.last_reply_seq, m.last_reply_us`

// After implements store.Store.
func (s *Store) After(ctx context.Context, room string, after uint64, limit int) ([]store.Message, error) {
	lo, ok := span.After(after)
	if !ok || limit <= 0 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectAfter, room, lo, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: messages of %q after %d: %w", room, after, err)
	}
	if err := s.withReactions(ctx, msgs); err != nil {
		return nil, fmt.Errorf("sqlite store: reactions of %q after %d: %w", room, after, err)
	}
	return msgs, nil
}

// Before implements store.Store.
func (s *Store) Before(ctx context.Context, room string, before uint64, limit int) ([]store.Message, error) {
	hi, ok := span.Before(before)
	if !ok || limit <= 0 {
		return nil, nil
	}
	msgs, err := s.query(ctx, selectMessage+`WHERE room = ? AND seq <= ? ORDER BY seq DESC LIMIT ?`, room, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: messages of %q before %d: %w", room, before, err)
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	if err := s.withReactions(ctx, msgs); err != nil {
		return nil, fmt.Errorf("sqlite store: reactions of %q before %d: %w", room, before, err)
	}
	return msgs, nil
}

// query runs a select of messages on the readers.
func (s *Store) query(ctx context.Context, q string, args ...any) ([]store.Message, error) {
	rows, err := s.read(ctx, q, args...)
	if err != nil {
		return nil, describe(err)
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
	if err := rows.Err(); err != nil {
		return nil, describe(err)
	}
	return msgs, nil
}

func scanMessage(row interface{ Scan(...any) error }) (store.Message, error) {
	var (
		m                        store.Message
		seq, tus, target, edited int64
		replyTo, thread          int64
		lastReply, lastReplyUs   int64
	)
	if err := row.Scan(&m.Room, &seq, &m.From, &m.Text, &m.ClientMsgID, &tus, &m.Change, &target, &edited, &m.Deleted,
		&replyTo, &thread, &m.AlsoRoom, &m.Summary.Replies, &lastReply, &lastReplyUs); err != nil {
		return store.Message{}, err
	}
	m.Seq, m.Target = span.Seq(seq), span.Seq(target)
	m.ReplyTo, m.Thread, m.Summary.LastReply = span.Seq(replyTo), span.Seq(thread), span.Seq(lastReply)
	if lastReplyUs != 0 {
		m.Summary.LastReplyTime = time.UnixMicro(lastReplyUs).UTC()
	}
	m.Time = time.UnixMicro(tus).UTC()
	if edited != 0 {
		m.Edited = time.UnixMicro(edited).UTC()
	}
	return m, nil
}

// Oldest implements store.Store.
func (s *Store) Oldest(ctx context.Context, room string) (uint64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM messages WHERE room = ? ORDER BY seq LIMIT 1`, room).Scan(&seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("sqlite store: oldest of %q: %w", room, describe(err))
	}
	return span.Seq(seq), nil
}

// FindClientMsg implements store.Store.
func (s *Store) FindClientMsg(ctx context.Context, room, from, clientMsgID string) (store.Message, bool, error) {
	if clientMsgID == "" {
		return store.Message{}, false, nil
	}
	// client_msg_id <> '' lets SQLite use the partial index.
	row := s.r.QueryRowContext(ctx, selectMessage+`WHERE room = ? AND sender = ? AND client_msg_id = ? AND client_msg_id <> ''
		ORDER BY seq DESC LIMIT 1`, room, from, clientMsgID)
	m, err := scanMessage(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Message{}, false, nil
	case err != nil:
		return store.Message{}, false, fmt.Errorf("sqlite store: finding client message %q of %q in %q: %w", clientMsgID, from, room, describe(err))
	}
	return m, true, nil
}

// Trim implements store.Store. For each room it finds the highest Seq to
// delete on the readers, then deletes up to it in transactions of at most
// trimChunk messages, each of which holds the write lock only briefly.
func (s *Store) Trim(ctx context.Context, now time.Time, maxAge time.Duration, maxPerRoom int) (int64, error) {
	if maxAge <= 0 && maxPerRoom <= 0 {
		return 0, nil
	}
	rooms, err := s.rooms(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: trim: %w", err)
	}
	var total int64
	for _, room := range rooms {
		upTo, err := s.trimBound(ctx, room, now, maxAge, maxPerRoom)
		if err != nil {
			return total, fmt.Errorf("sqlite store: trim %q: %w", room, err)
		}
		for upTo > 0 {
			res, err := s.w.ExecContext(ctx, `DELETE FROM messages WHERE room = ? AND seq IN
				(SELECT seq FROM messages WHERE room = ? AND seq <= ? ORDER BY seq LIMIT ?)`,
				room, room, upTo, trimChunk)
			if err != nil {
				return total, fmt.Errorf("sqlite store: trim %q: %w", room, describe(err))
			}
			n, _ := res.RowsAffected()
			total += n
			if n < trimChunk {
				n, err := s.trimChanges(ctx, room, upTo)
				total += n
				if err != nil {
					return total, fmt.Errorf("sqlite store: trim %q: %w", room, err)
				}
				if _, err := s.w.ExecContext(ctx, `DELETE FROM mentions WHERE room = ? AND seq <= ?`, room, upTo); err != nil {
					return total, fmt.Errorf("sqlite store: trim mentions of %q: %w", room, describe(err))
				}
				break
			}
		}
	}
	return total, nil
}

// rooms lists every room that ever had a message.
func (s *Store) rooms(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT room FROM room_seqs ORDER BY room`)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var rooms []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		rooms = append(rooms, r)
	}
	return rooms, describe(rows.Err())
}

// trimBound returns the highest Seq of room that retention deletes, 0 for
// none: everything below the maxPerRoom-th newest message and below the
// oldest message that is not older than maxAge.
func (s *Store) trimBound(ctx context.Context, room string, now time.Time, maxAge time.Duration, maxPerRoom int) (int64, error) {
	var upTo int64
	if maxPerRoom > 0 {
		var keep int64
		err := s.r.QueryRowContext(ctx, `SELECT seq FROM messages WHERE room = ? ORDER BY seq DESC LIMIT 1 OFFSET ?`,
			room, maxPerRoom-1).Scan(&keep)
		switch {
		case errors.Is(err, sql.ErrNoRows): // no more than maxPerRoom
		case err != nil:
			return 0, describe(err)
		default:
			upTo = max(upTo, keep-1)
		}
	}
	if maxAge > 0 {
		var keep int64
		err := s.r.QueryRowContext(ctx, `SELECT seq FROM messages WHERE room = ? AND time_us >= ? ORDER BY seq LIMIT 1`,
			room, now.Add(-maxAge).UnixMicro()).Scan(&keep)
		switch {
		case errors.Is(err, sql.ErrNoRows): // all are too old
			upTo = math.MaxInt64
		case err != nil:
			return 0, describe(err)
		default:
			upTo = max(upTo, keep-1)
		}
	}
	return upTo, nil
}

// SetRead implements store.Store.
func (s *Store) SetRead(ctx context.Context, user, room string, seq uint64) error {
	if seq > math.MaxInt64 {
		return fmt.Errorf("sqlite store: read position %d of %q in %q is out of range", seq, user, room)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO read_positions (user_name, room, seq) VALUES (?, ?, ?)
		ON CONFLICT (user_name, room) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > read_positions.seq`,
		user, room, int64(seq))
	if err != nil {
		return fmt.Errorf("sqlite store: read position of %q in %q: %w", user, room, describe(err))
	}
	return nil
}

// ReadPositions implements store.Store.
func (s *Store) ReadPositions(ctx context.Context, user string) (map[string]uint64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT room, seq FROM read_positions WHERE user_name = ?`, user)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: read positions of %q: %w", user, describe(err))
	}
	defer rows.Close()
	pos := make(map[string]uint64)
	for rows.Next() {
		var (
			room string
			seq  int64
		)
		if err := rows.Scan(&room, &seq); err != nil {
			return nil, fmt.Errorf("sqlite store: read positions of %q: %w", user, err)
		}
		pos[room] = span.Seq(seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: read positions of %q: %w", user, describe(err))
	}
	return pos, nil
}
