package store

import (
	"context"
	"errors"
	"time"
)

// User is a registered account.
type User struct {
	// Key identifies the user: its name case-folded (strings.ToLower), so
	// that names are unique regardless of case. Callers fold it.
	Key string
	// Name is the name as the user registered it.
	Name string
	// PasswordHash is the password hash in the encoding package auth
	// writes; the store keeps it opaque. It is empty for a user that signs
	// in with an application's JWTs only, recorded when first seen so that
	// its name stays its own.
	PasswordHash string
	// Created is when the account was registered, or the JWT user first
	// seen.
	Created time.Time
}

// Token is a login token as stored: only a hash of the secret the client
// holds, so that a copy of the database gives nobody a way in.
type Token struct {
	// Hash identifies the token; callers compute it from the secret.
	Hash string
	// User is the Key of the user the token signs in.
	User string
	// Created and Expires bound the token's life.
	Created time.Time
	Expires time.Time
}

// Room is a room that has an owner: a private room, whose messages only
// its members may read, or a public room someone created explicitly. Rooms
// that were only ever joined have no Room record.
type Room struct {
	// Name is the room's canonical name.
	Name string
	// Owner is the Key of the user who created the room.
	Owner string
	// Private rooms admit only their members.
	Private bool
	// Created is when the room was created.
	Created time.Time
}

// Accounts keeps users, their login tokens and room memberships.
// Implementations are safe for concurrent use; every method takes a context
// that bounds how long it may wait. User keys, room names and token hashes
// are compared byte for byte.
type Accounts interface {
	// CreateUser registers u. If a user with u.Key exists, it returns an
	// error wrapping ErrExists and changes nothing.
	CreateUser(ctx context.Context, u User) error
	// User returns the user with key, or an error wrapping ErrNotFound.
	User(ctx context.Context, key string) (User, error)
	// SetPassword replaces the password hash of the user with key and
	// deletes every token of that user, in one transaction, so that a
	// password change signs out every device. It returns an error wrapping
	// ErrNotFound for an unknown user.
	SetPassword(ctx context.Context, key, passwordHash string) error

	// CreateToken stores t. A Hash that exists already is an error
	// wrapping ErrExists.
	CreateToken(ctx context.Context, t Token) error
	// Token returns the token with hash, or an error wrapping ErrNotFound.
	// It returns expired tokens too; callers check Expires.
	Token(ctx context.Context, hash string) (Token, error)
	// DeleteToken deletes the token with hash; deleting a token that does
	// not exist is not an error.
	DeleteToken(ctx context.Context, hash string) error
	// DeleteExpiredTokens deletes the tokens that expired before now and
	// returns how many.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error)

	// CreateRoom records r and makes its owner a member, in one
	// transaction. A room with r.Name that exists already is an error
	// wrapping ErrExists.
	CreateRoom(ctx context.Context, r Room) error
	// Room returns the room with name, or an error wrapping ErrNotFound.
	Room(ctx context.Context, name string) (Room, error)
	// AddMember makes user (a Key) a member of room. Adding a member twice
	// is not an error. An unknown room is an error wrapping ErrNotFound.
	AddMember(ctx context.Context, room, user string) error
	// RemoveMember ends user's membership of room; removing a non-member is
	// not an error.
	RemoveMember(ctx context.Context, room, user string) error
	// IsMember reports whether user is a member of room.
	IsMember(ctx context.Context, room, user string) (bool, error)
	// Members returns the keys of room's members, sorted.
	Members(ctx context.Context, room string) ([]string, error)
	// RoomsNamed returns the records of the rooms among names that exist,
	// sorted by name: one call instead of one Room per name, for listing
	// many rooms. Names without a record are left out.
	RoomsNamed(ctx context.Context, names []string) ([]Room, error)
	// RoomsOf returns the rooms user is a member of, sorted by name.
	RoomsOf(ctx context.Context, user string) ([]Room, error)
	// RoomsOwned counts the rooms whose owner is user (a Key).
	RoomsOwned(ctx context.Context, user string) (int, error)

	// Ping reports whether the accounts can be read and written now, as
	// Store.Ping does.
	Ping(ctx context.Context) error

	// Close releases the store's resources. Close is idempotent.
	Close() error
}

// ErrExists is returned (wrapped) when a record to be created exists.
var ErrExists = errors.New("store: already exists")

// ErrNotFound is returned (wrapped) when a record does not exist.
var ErrNotFound = errors.New("store: not found")
