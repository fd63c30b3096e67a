package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatd/chatd/store"
)

// The accounts follow the connection split of the package doc: a write of
// one statement runs on the writer in its own (immediate) transaction, as
// SetRead does; a write of several statements runs in one BEGIN IMMEDIATE
// transaction on the writer, as Append does; reads use the readers.

var _ store.Accounts = (*Store)(nil)

// insertNew runs an INSERT ... ON CONFLICT DO NOTHING and reports a row
// that was not inserted as store.ErrExists. DO NOTHING instead of a
// constraint error: no error code to decode, and a duplicate shows as a row
// not inserted.
func insertNew(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) error {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return describe(err)
	}
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return describe(err)
	case n == 0:
		return store.ErrExists
	}
	return nil
}

// CreateUser implements store.Accounts.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	err := insertNew(ctx, s.w, `INSERT INTO users (user_key, name, password_hash, created_us)
		VALUES (?, ?, ?, ?) ON CONFLICT (user_key) DO NOTHING`,
		u.Key, u.Name, u.PasswordHash, u.Created.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite store: create user %q: %w", u.Key, err)
	}
	return nil
}

// User implements store.Accounts.
func (s *Store) User(ctx context.Context, key string) (store.User, error) {
	var (
		u  store.User
		us int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT user_key, name, password_hash, created_us FROM users WHERE user_key = ?`,
		key).Scan(&u.Key, &u.Name, &u.PasswordHash, &us)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.User{}, fmt.Errorf("sqlite store: user %q: %w", key, store.ErrNotFound)
	case err != nil:
		return store.User{}, fmt.Errorf("sqlite store: user %q: %w", key, describe(err))
	}
	u.Created = time.UnixMicro(us).UTC()
	return u, nil
}

// SetPassword implements store.Accounts.
func (s *Store) SetPassword(ctx context.Context, key, passwordHash string) error {
	if err := s.setPassword(ctx, key, passwordHash); err != nil {
		return fmt.Errorf("sqlite store: set password of %q: %w", key, err)
	}
	return nil
}

func (s *Store) setPassword(ctx context.Context, key, passwordHash string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return describe(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE user_key = ?`, passwordHash, key)
	if err != nil {
		return describe(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return describe(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_key = ?`, key); err != nil {
		return describe(err)
	}
	return describe(tx.Commit())
}

// CreateToken implements store.Accounts. Its errors name the user, not the
// hash, which is a credential's identifier and has no place in logs.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	err := insertNew(ctx, s.w, `INSERT INTO tokens (hash, user_key, created_us, expires_us)
		VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
		t.Hash, t.User, t.Created.UnixMicro(), t.Expires.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite store: create token of %q: %w", t.User, err)
	}
	return nil
}

// Token implements store.Accounts.
func (s *Store) Token(ctx context.Context, hash string) (store.Token, error) {
	var (
		t                store.Token
		created, expires int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT hash, user_key, created_us, expires_us FROM tokens WHERE hash = ?`,
		hash).Scan(&t.Hash, &t.User, &created, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, fmt.Errorf("sqlite store: token: %w", store.ErrNotFound)
	case err != nil:
		return store.Token{}, fmt.Errorf("sqlite store: token: %w", describe(err))
	}
	t.Created, t.Expires = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	return t, nil
}

// DeleteToken implements store.Accounts.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM tokens WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("sqlite store: delete token: %w", describe(err))
	}
	return nil
}

// DeleteExpiredTokens implements store.Accounts.
func (s *Store) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM tokens WHERE expires_us < ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite store: delete expired tokens: %w", describe(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite store: delete expired tokens: %w", describe(err))
	}
	return n, nil
}

// CreateRoom implements store.Accounts.
func (s *Store) CreateRoom(ctx context.Context, r store.Room) error {
	if err := s.createRoom(ctx, r); err != nil {
		return fmt.Errorf("sqlite store: create room %q: %w", r.Name, err)
	}
	return nil
}

func (s *Store) createRoom(ctx context.Context, r store.Room) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return describe(err)
	}
	defer tx.Rollback()
	if err := insertNew(ctx, tx, `INSERT INTO rooms (name, owner, is_private, created_us)
		VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		r.Name, r.Owner, r.Private, r.Created.UnixMicro()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO members (room, user_key) VALUES (?, ?)
		ON CONFLICT (room, user_key) DO NOTHING`, r.Name, r.Owner); err != nil {
		return describe(err)
	}
	return describe(tx.Commit())
}

const selectRoom = `SELECT rooms.name, rooms.owner, rooms.is_private, rooms.created_us FROM rooms `

func scanRoom(row interface{ Scan(...any) error }) (store.Room, error) {
	var (
		r  store.Room
		us int64
	)
	if err := row.Scan(&r.Name, &r.Owner, &r.Private, &us); err != nil {
		return store.Room{}, err
	}
	r.Created = time.UnixMicro(us).UTC()
	return r, nil
}

// Room implements store.Accounts.
func (s *Store) Room(ctx context.Context, name string) (store.Room, error) {
	r, err := scanRoom(s.r.QueryRowContext(ctx, selectRoom+`WHERE name = ?`, name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Room{}, fmt.Errorf("sqlite store: room %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Room{}, fmt.Errorf("sqlite store: room %q: %w", name, describe(err))
	}
	return r, nil
}

// AddMember implements store.Accounts. The room is looked up in the same
// write transaction as the insert, in place of a foreign key.
func (s *Store) AddMember(ctx context.Context, room, user string) error {
	if err := s.addMember(ctx, room, user); err != nil {
		return fmt.Errorf("sqlite store: add %q to room %q: %w", user, room, err)
	}
	return nil
}

func (s *Store) addMember(ctx context.Context, room, user string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return describe(err)
	}
	defer tx.Rollback()
	var one int
	switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM rooms WHERE name = ?`, room).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return describe(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO members (room, user_key) VALUES (?, ?)
		ON CONFLICT (room, user_key) DO NOTHING`, room, user); err != nil {
		return describe(err)
	}
	return describe(tx.Commit())
}

// RemoveMember implements store.Accounts.
func (s *Store) RemoveMember(ctx context.Context, room, user string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM members WHERE room = ? AND user_key = ?`, room, user); err != nil {
		return fmt.Errorf("sqlite store: remove %q from room %q: %w", user, room, describe(err))
	}
	return nil
}

// IsMember implements store.Accounts.
func (s *Store) IsMember(ctx context.Context, room, user string) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM members WHERE room = ? AND user_key = ?`, room, user).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlite store: is %q a member of room %q: %w", user, room, describe(err))
	}
	return true, nil
}

// Members implements store.Accounts. The BINARY collation sorts byte for
// byte, as Go sorts strings.
func (s *Store) Members(ctx context.Context, room string) ([]string, error) {
	users, err := s.members(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: members of room %q: %w", room, err)
	}
	return users, nil
}

func (s *Store) members(ctx context.Context, room string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT user_key FROM members WHERE room = ? ORDER BY user_key`, room)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, describe(rows.Err())
}

// RoomsNamed implements store.Accounts.
func (s *Store) RoomsNamed(ctx context.Context, names []string) ([]store.Room, error) {
	var rooms []store.Room
	for chunk := range slices.Chunk(names, roomsNamedChunk) {
		args := make([]any, len(chunk))
		for i, n := range chunk {
			args[i] = n
		}
		more, err := s.queryRooms(ctx, selectRoom+`WHERE name IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: rooms named: %w", err)
		}
		rooms = append(rooms, more...)
	}
	slices.SortFunc(rooms, func(a, b store.Room) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(rooms, func(a, b store.Room) bool { return a.Name == b.Name }), nil
}

// roomsNamedChunk bounds the parameters of one RoomsNamed query, well
// below SQLite's limit.
const roomsNamedChunk = 500

// RoomsOf implements store.Accounts.
func (s *Store) RoomsOf(ctx context.Context, user string) ([]store.Room, error) {
	rooms, err := s.roomsOf(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: rooms of %q: %w", user, err)
	}
	return rooms, nil
}

// RoomsOwned implements store.Accounts.
func (s *Store) RoomsOwned(ctx context.Context, user string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM rooms WHERE owner = ?`, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite store: rooms owned by %q: %w", user, describe(err))
	}
	return n, nil
}

func (s *Store) roomsOf(ctx context.Context, user string) ([]store.Room, error) {
	return s.queryRooms(ctx, selectRoom+`JOIN members ON members.room = rooms.name
		WHERE members.user_key = ? ORDER BY rooms.name`, user)
}

func (s *Store) queryRooms(ctx context.Context, query string, args ...any) ([]store.Room, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var rooms []store.Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, err
		}
		rooms = append(rooms, r)
	}
	return rooms, describe(rows.Err())
}
