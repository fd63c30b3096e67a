package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chatd/chatd/store"
)

var _ store.Accounts = (*Store)(nil)

// SQLSTATEs the accounts map to store errors. The codes, unlike the
// messages, do not change with the server's version or language.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// hasCode reports whether err is a PostgreSQL error with SQLSTATE code.
func hasCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

// CreateUser implements store.Accounts.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO users (user_key, name, password_hash, created) VALUES ($1, $2, $3, $4)`,
		u.Key, u.Name, u.PasswordHash, u.Created)
	switch {
	case hasCode(err, uniqueViolation):
		return fmt.Errorf("postgres store: create user %q: %w", u.Key, store.ErrExists)
	case err != nil:
		return fmt.Errorf("postgres store: create user %q: %w", u.Key, err)
	}
	return nil
}

// User implements store.Accounts.
func (s *Store) User(ctx context.Context, key string) (store.User, error) {
	var u store.User
	err := s.pool.QueryRow(ctx, `SELECT user_key, name, password_hash, created FROM users WHERE user_key = $1`,
		key).Scan(&u.Key, &u.Name, &u.PasswordHash, &u.Created)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.User{}, fmt.Errorf("postgres store: user %q: %w", key, store.ErrNotFound)
	case err != nil:
		return store.User{}, fmt.Errorf("postgres store: user %q: %w", key, err)
	}
	u.Created = u.Created.UTC()
	return u, nil
}

// SetPassword implements store.Accounts.
func (s *Store) SetPassword(ctx context.Context, key, passwordHash string) error {
	if err := s.setPassword(ctx, key, passwordHash); err != nil {
		return fmt.Errorf("postgres store: set password of %q: %w", key, err)
	}
	return nil
}

func (s *Store) setPassword(ctx context.Context, key, passwordHash string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE user_key = $1`, key, passwordHash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	if _, err := tx.Exec(ctx, `DELETE FROM tokens WHERE user_key = $1`, key); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// CreateToken implements store.Accounts. Its errors name the user, not the
// hash, which is a credential's identifier and has no place in logs.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tokens (hash, user_key, created, expires) VALUES ($1, $2, $3, $4)`,
		t.Hash, t.User, t.Created, t.Expires)
	switch {
	case hasCode(err, uniqueViolation):
		return fmt.Errorf("postgres store: create token of %q: %w", t.User, store.ErrExists)
	case err != nil:
		return fmt.Errorf("postgres store: create token of %q: %w", t.User, err)
	}
	return nil
}

// Token implements store.Accounts.
func (s *Store) Token(ctx context.Context, hash string) (store.Token, error) {
	var t store.Token
	err := s.pool.QueryRow(ctx, `SELECT hash, user_key, created, expires FROM tokens WHERE hash = $1`,
		hash).Scan(&t.Hash, &t.User, &t.Created, &t.Expires)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Token{}, fmt.Errorf("postgres store: token: %w", store.ErrNotFound)
	case err != nil:
		return store.Token{}, fmt.Errorf("postgres store: token: %w", err)
	}
	t.Created, t.Expires = t.Created.UTC(), t.Expires.UTC()
	return t, nil
}

// DeleteToken implements store.Accounts.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM tokens WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("postgres store: delete token: %w", err)
	}
	return nil
}

// DeleteExpiredTokens implements store.Accounts.
func (s *Store) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM tokens WHERE expires < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres store: delete expired tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CreateRoom implements store.Accounts.
func (s *Store) CreateRoom(ctx context.Context, r store.Room) error {
	if err := s.createRoom(ctx, r); err != nil {
		return fmt.Errorf("postgres store: create room %q: %w", r.Name, err)
	}
	return nil
}

func (s *Store) createRoom(ctx context.Context, r store.Room) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `INSERT INTO rooms (name, owner, is_private, created) VALUES ($1, $2, $3, $4)`,
		r.Name, r.Owner, r.Private, r.Created)
	switch {
	case hasCode(err, uniqueViolation):
		return store.ErrExists
	case err != nil:
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO members (room, user_key) VALUES ($1, $2)`, r.Name, r.Owner); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

const selectRoom = `SELECT rooms.name, rooms.owner, rooms.is_private, rooms.created FROM rooms `

func scanRoom(row pgx.Row) (store.Room, error) {
	var r store.Room
	if err := row.Scan(&r.Name, &r.Owner, &r.Private, &r.Created); err != nil {
		return store.Room{}, err
	}
	r.Created = r.Created.UTC()
	return r, nil
}

// Room implements store.Accounts.
func (s *Store) Room(ctx context.Context, name string) (store.Room, error) {
	r, err := scanRoom(s.pool.QueryRow(ctx, selectRoom+`WHERE name = $1`, name))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Room{}, fmt.Errorf("postgres store: room %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Room{}, fmt.Errorf("postgres store: room %q: %w", name, err)
	}
	return r, nil
}

// AddMember implements store.Accounts. The foreign key on members.room
// refuses an unknown room in the same statement that adds the member.
func (s *Store) AddMember(ctx context.Context, room, user string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO members (room, user_key) VALUES ($1, $2)
		ON CONFLICT (room, user_key) DO NOTHING`, room, user)
	switch {
	case hasCode(err, foreignKeyViolation):
		return fmt.Errorf("postgres store: add %q to room %q: %w", user, room, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres store: add %q to room %q: %w", user, room, err)
	}
	return nil
}

// RemoveMember implements store.Accounts.
func (s *Store) RemoveMember(ctx context.Context, room, user string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM members WHERE room = $1 AND user_key = $2`, room, user); err != nil {
		return fmt.Errorf("postgres store: remove %q from room %q: %w", user, room, err)
	}
	return nil
}

// IsMember implements store.Accounts.
func (s *Store) IsMember(ctx context.Context, room, user string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM members WHERE room = $1 AND user_key = $2)`,
		room, user).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("postgres store: is %q a member of room %q: %w", user, room, err)
	}
	return ok, nil
}

// Members implements store.Accounts. The columns' "C" collation sorts byte
// for byte, as Go sorts strings.
func (s *Store) Members(ctx context.Context, room string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_key FROM members WHERE room = $1 ORDER BY user_key`, room)
	if err != nil {
		return nil, fmt.Errorf("postgres store: members of room %q: %w", room, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres store: members of room %q: %w", room, err)
	}
	return users, nil
}

// RoomsNamed implements store.Accounts.
func (s *Store) RoomsNamed(ctx context.Context, names []string) ([]store.Room, error) {
	rows, err := s.pool.Query(ctx, selectRoom+`WHERE name = ANY($1::text[]) ORDER BY name`, names)
	if err != nil {
		return nil, fmt.Errorf("postgres store: rooms named: %w", err)
	}
	rooms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Room, error) { return scanRoom(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres store: rooms named: %w", err)
	}
	return rooms, nil
}

// RoomsOwned implements store.Accounts.
func (s *Store) RoomsOwned(ctx context.Context, user string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM rooms WHERE owner = $1`, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres store: rooms owned by %q: %w", user, err)
	}
	return n, nil
}

// RoomsOf implements store.Accounts.
func (s *Store) RoomsOf(ctx context.Context, user string) ([]store.Room, error) {
	rows, err := s.pool.Query(ctx, selectRoom+`JOIN members ON members.room = rooms.name
		WHERE members.user_key = $1 ORDER BY rooms.name`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres store: rooms of %q: %w", user, err)
	}
	rooms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Room, error) { return scanRoom(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres store: rooms of %q: %w", user, err)
	}
	return rooms, nil
}
