// Package memory owns store.Accounts kept in the chatd process: the users,
// login tokens, rooms and memberships of a chatd that runs with
// -store memory, which keeps no history. They live in maps guarded by one
// mutex and are lost when the process ends.
//
// It behaves as the SQL adapters do, so that the conformance suite in
// store/storetest holds for it too: times are kept to the microsecond and
// returned in UTC, and calls after Close fail.
package memory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatd/chatd/store"
)

var _ store.Accounts = (*Accounts)(nil)

// errClosed is returned by every call after Close.
var errClosed = errors.New("memory accounts: closed")

// Accounts is a store.Accounts in memory. It is safe for concurrent use.
// Its zero value is not usable; NewAccounts makes one.
type Accounts struct {
	mu      sync.Mutex
	closed  bool
	users   map[string]store.User
	tokens  map[string]store.Token
	rooms   map[string]store.Room
	members map[string]map[string]struct{} // room -> user keys
	roomsOf map[string]map[string]struct{} // user key -> room names
}

// NewAccounts returns empty Accounts.
func NewAccounts() *Accounts {
	return &Accounts{
		users:   make(map[string]store.User),
		tokens:  make(map[string]store.Token),
		rooms:   make(map[string]store.Room),
		members: make(map[string]map[string]struct{}),
		roomsOf: make(map[string]map[string]struct{}),
	}
}

// stored is t as the SQL adapters return it: to the microsecond, in UTC,
// without a monotonic clock reading.
func stored(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// lock takes the mutex unless ctx is done or a.closed. On success the
// caller must unlock a.mu. A done ctx fails the call, as it fails a call to
// a SQL adapter, even though waiting for the mutex is brief.
func (a *Accounts) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errClosed
	}
	return nil
}

// CreateUser implements store.Accounts.
func (a *Accounts) CreateUser(ctx context.Context, u store.User) error {
	if err := a.lock(ctx); err != nil {
		return fmt.Errorf("memory accounts: create user %q: %w", u.Key, err)
	}
	defer a.mu.Unlock()
	if _, ok := a.users[u.Key]; ok {
		return fmt.Errorf("memory accounts: create user %q: %w", u.Key, store.ErrExists)
	}
	u.Created = stored(u.Created)
	a.users[u.Key] = u
	return nil
}

// User implements store.Accounts.
func (a *Accounts) User(ctx context.Context, key string) (store.User, error) {
	if err := a.lock(ctx); err != nil {
		return store.User{}, fmt.Errorf("memory accounts: user %q: %w", key, err)
	}
	defer a.mu.Unlock()
	u, ok := a.users[key]
	if !ok {
		return store.User{}, fmt.Errorf("memory accounts: user %q: %w", key, store.ErrNotFound)
	}
	return u, nil
}

// SetPassword implements store.Accounts. It scans every token for the
// user's: password changes are rare, and an index by user would have to be
// kept up to date on every login.
func (a *Accounts) SetPassword(ctx context.Context, key, passwordHash string) error {
	if err := a.lock(ctx); err != nil {
		return fmt.Errorf("memory accounts: set password of %q: %w", key, err)
	}
	defer a.mu.Unlock()
	u, ok := a.users[key]
	if !ok {
		return fmt.Errorf("memory accounts: set password of %q: %w", key, store.ErrNotFound)
	}
	u.PasswordHash = passwordHash
	a.users[key] = u
	for hash, t := range a.tokens {
		if t.User == key {
			delete(a.tokens, hash)
		}
	}
	return nil
}

// CreateToken implements store.Accounts. Its errors name the user, not the
// hash, which is a credential's identifier and has no place in logs.
func (a *Accounts) CreateToken(ctx context.Context, t store.Token) error {
	if err := a.lock(ctx); err != nil {
		return fmt.Errorf("memory accounts: create token of %q: %w", t.User, err)
	}
	defer a.mu.Unlock()
	if _, ok := a.tokens[t.Hash]; ok {
		return fmt.Errorf("memory accounts: create token of %q: %w", t.User, store.ErrExists)
	}
	t.Created, t.Expires = stored(t.Created), stored(t.Expires)
	a.tokens[t.Hash] = t
	return nil
}

// Token implements store.Accounts.
func (a *Accounts) Token(ctx context.Context, hash string) (store.Token, error) {
	if err := a.lock(ctx); err != nil {
		return store.Token{}, fmt.Errorf("memory accounts: token: %w", err)
	}
	defer a.mu.Unlock()
	t, ok := a.tokens[hash]
	if !ok {
		return store.Token{}, fmt.Errorf("memory accounts: token: %w", store.ErrNotFound)
	}
	return t, nil
}

// DeleteToken implements store.Accounts.
func (a *Accounts) DeleteToken(ctx context.Context, hash string) error {
	if err := a.lock(ctx); err != nil {
		return fmt.Errorf("memory accounts: delete token: %w", err)
	}
	defer a.mu.Unlock()
	delete(a.tokens, hash)
	return nil
}

// DeleteExpiredTokens implements store.Accounts. now is compared at the
// microsecond, as the SQL adapters compare it.
func (a *Accounts) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := a.lock(ctx); err != nil {
		return 0, fmt.Errorf("memory accounts: delete expired tokens: %w", err)
	}
	defer a.mu.Unlock()
	now = stored(now)
	var n int64
	for hash, t := range a.tokens {
		if t.Expires.Before(now) {
			delete(a.tokens, hash)
			n++
		}
	}
	return n, nil
}

// CreateRoom implements store.Accounts.
func (a *Accounts) CreateRoom(ctx context.Context, r store.Room) error {
	if err := a.lock(ctx); err != nil {
		return fmt.Errorf("memory accounts: create room %q: %w", r.Name, err)
	}
	defer a.mu.Unlock()
	if _, ok := a.rooms[r.Name]; ok {
		return fmt.Errorf("memory accounts: create room %q: %w", r.Name, store.ErrExists)
	}
	r.Created = stored(r.Created)
	a.rooms[r.Name] = r
	a.addMember(r.Name, r.Owner)
	return nil
}

// Room implements store.Accounts.
func (a *Accounts) Room(ctx context.Context, name string) (store.Room, error) {
	if err := a.lock(ctx); err != nil {
		return store.Room{}, fmt.Errorf("memory accounts: room %q: %w", name, err)
	}
	defer a.mu.Unlock()
	r, ok := a.rooms[name]
	if !ok {
		return store.Room{}, fmt.Errorf("memory accounts: room %q: %w", name, store.ErrNotFound)
	}
	return r, nil
}

// AddMember implements store.Accounts.
func (a *Accounts) AddMember(ctx context.Context, room, user string) error {
	if err := a.lock(ctx); err != nil {
		return fmt.Errorf("memory accounts: add %q to room %q: %w", user, room, err)
	}
	defer a.mu.Unlock()
	if _, ok := a.rooms[room]; !ok {
		return fmt.Errorf("memory accounts: add %q to room %q: %w", user, room, store.ErrNotFound)
	}
	a.addMember(room, user)
	return nil
}

// addMember records the membership in both directions. a.mu is held.
func (a *Accounts) addMember(room, user string) {
	addTo(a.members, room, user)
	addTo(a.roomsOf, user, room)
}

// RemoveMember implements store.Accounts.
func (a *Accounts) RemoveMember(ctx context.Context, room, user string) error {
	if err := a.lock(ctx); err != nil {
		return fmt.Errorf("memory accounts: remove %q from room %q: %w", user, room, err)
	}
	defer a.mu.Unlock()
	removeFrom(a.members, room, user)
	removeFrom(a.roomsOf, user, room)
	return nil
}

// IsMember implements store.Accounts.
func (a *Accounts) IsMember(ctx context.Context, room, user string) (bool, error) {
	if err := a.lock(ctx); err != nil {
		return false, fmt.Errorf("memory accounts: is %q a member of room %q: %w", user, room, err)
	}
	defer a.mu.Unlock()
	_, ok := a.members[room][user]
	return ok, nil
}

// Members implements store.Accounts. The slice is the caller's.
func (a *Accounts) Members(ctx context.Context, room string) ([]string, error) {
	if err := a.lock(ctx); err != nil {
		return nil, fmt.Errorf("memory accounts: members of room %q: %w", room, err)
	}
	defer a.mu.Unlock()
	return sortedKeys(a.members[room]), nil
}

// RoomsNamed implements store.Accounts.
func (a *Accounts) RoomsNamed(ctx context.Context, names []string) ([]store.Room, error) {
	if err := a.lock(ctx); err != nil {
		return nil, fmt.Errorf("memory accounts: rooms named: %w", err)
	}
	defer a.mu.Unlock()
	var rooms []store.Room
	for _, n := range names {
		if r, ok := a.rooms[n]; ok {
			rooms = append(rooms, r)
		}
	}
	slices.SortFunc(rooms, func(x, y store.Room) int { return strings.Compare(x.Name, y.Name) })
	return slices.CompactFunc(rooms, func(x, y store.Room) bool { return x.Name == y.Name }), nil
}

// RoomsOf implements store.Accounts.
func (a *Accounts) RoomsOf(ctx context.Context, user string) ([]store.Room, error) {
	if err := a.lock(ctx); err != nil {
		return nil, fmt.Errorf("memory accounts: rooms of %q: %w", user, err)
	}
	defer a.mu.Unlock()
	var rooms []store.Room
	for _, name := range sortedKeys(a.roomsOf[user]) {
		rooms = append(rooms, a.rooms[name])
	}
	return rooms, nil
}

// Ping implements store.Accounts: it fails only after Close.
func (a *Accounts) Ping(ctx context.Context) error {
	if err := a.lock(ctx); err != nil {
		return err
	}
	a.mu.Unlock()
	return nil
}

// RoomsOwned implements store.Accounts.
func (a *Accounts) RoomsOwned(ctx context.Context, user string) (int, error) {
	if err := a.lock(ctx); err != nil {
		return 0, fmt.Errorf("memory accounts: rooms owned by %q: %w", user, err)
	}
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.rooms {
		if r.Owner == user {
			n++
		}
	}
	return n, nil
}

// Close implements store.Accounts. It drops the maps, so that their memory
// can be reclaimed while a reference to a lingers; later calls fail.
func (a *Accounts) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	a.users, a.tokens, a.rooms, a.members, a.roomsOf = nil, nil, nil, nil, nil
	return nil
}

// addTo adds v to the set m[k], creating the set if needed.
func addTo(m map[string]map[string]struct{}, k, v string) {
	set, ok := m[k]
	if !ok {
		set = make(map[string]struct{})
		m[k] = set
	}
	set[v] = struct{}{}
}

// removeFrom removes v from the set m[k], and the set once it is empty,
// so that rooms and users without members leave nothing behind.
func removeFrom(m map[string]map[string]struct{}, k, v string) {
	set, ok := m[k]
	if !ok {
		return
	}
	delete(set, v)
	if len(set) == 0 {
		delete(m, k)
	}
}

// sortedKeys returns the members of set in byte order, as the SQL adapters
// sort them; nil for none.
func sortedKeys(set map[string]struct{}) []string {
	return slices.Sorted(maps.Keys(set))
}
