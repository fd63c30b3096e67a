package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/store"
)

// AccountsOption configures RunAccounts.
type AccountsOption func(*accountsConfig)

type accountsConfig struct {
	reopen func(t *testing.T) func() store.Accounts
}

// ReopenAccounts gives RunAccounts a way to open the same database more
// than once, for the test of persistence across Close. reopen returns, for
// a new empty database of its own, a function that opens that database each
// time it is called (failing t if it cannot). Without it that test is
// skipped, as it must be for an adapter that keeps nothing.
func ReopenAccounts(reopen func(t *testing.T) func() store.Accounts) AccountsOption {
	return func(c *accountsConfig) { c.reopen = reopen }
}

// RunAccounts runs the conformance suite of store.Accounts as subtests of
// t. open returns new, empty Accounts for each subtest; the suite closes
// them (Close is idempotent, so open may also register a Close with
// t.Cleanup).
func RunAccounts(t *testing.T, open func(t *testing.T) store.Accounts, opts ...AccountsOption) {
	var c accountsConfig
	for _, o := range opts {
		o(&c)
	}
	s := &accountsSuite{open: open, reopen: c.reopen}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Empty", s.testEmpty},
		{"Users", s.testUsers},
		{"UsersConcurrent", s.testUsersConcurrent},
		{"SetPassword", s.testSetPassword},
		{"Tokens", s.testTokens},
		{"TokensConcurrent", s.testTokensConcurrent},
		{"ExpiredTokens", s.testExpiredTokens},
		{"Rooms", s.testRooms},
		{"RoomsConcurrent", s.testRoomsConcurrent},
		{"Members", s.testMembers},
		{"RoomsOf", s.testRoomsOf},
		{"RoomsNamed", s.testRoomsNamed},
		{"RoomsOwned", s.testRoomsOwned},
		{"Literal", s.testLiteral},
		{"NoWildcards", s.testNoWildcards},
		{"Time", s.testTime},
		{"Copies", s.testCopies},
		{"Canceled", s.testCanceled},
		{"Ping", s.testPing},
		{"Close", s.testClose},
		{"Reopen", s.testReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type accountsSuite struct {
	open   func(t *testing.T) store.Accounts
	reopen func(t *testing.T) func() store.Accounts
}

// newAccounts opens Accounts and closes them when the test ends.
func (s *accountsSuite) newAccounts(t *testing.T) store.Accounts {
	t.Helper()
	ac := s.open(t)
	t.Cleanup(func() { ac.Close() })
	return ac
}

// sameTime reports whether got is exp as a store returns it: to the
// microsecond, in UTC.
func sameTime(got, exp time.Time) bool {
	return got.Equal(exp.Truncate(time.Microsecond)) && got.Location() == time.UTC
}

// user is the user with key, registered at base.
func user(key string) store.User {
	return store.User{Key: key, Name: "Name of " + key, PasswordHash: "hash of " + key, Created: base}
}

// token is the token hash of user key, created at base and expiring a day
// later.
func token(hash, key string) store.Token {
	return store.Token{Hash: hash, User: key, Created: base, Expires: base.Add(24 * time.Hour)}
}

// room is the room name owned by owner, created at base.
func room(name, owner string, private bool) store.Room {
	return store.Room{Name: name, Owner: owner, Private: private, Created: base}
}

func mustCreateUser(t *testing.T, ac store.Accounts, u store.User) {
	t.Helper()
	if err := ac.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Key, err)
	}
}

func mustCreateToken(t *testing.T, ac store.Accounts, tok store.Token) {
	t.Helper()
	if err := ac.CreateToken(ctx(t), tok); err != nil {
		t.Fatalf("CreateToken(%q of %q): %v", tok.Hash, tok.User, err)
	}
}

func mustCreateRoom(t *testing.T, ac store.Accounts, r store.Room) {
	t.Helper()
	if err := ac.CreateRoom(ctx(t), r); err != nil {
		t.Fatalf("CreateRoom(%q): %v", r.Name, err)
	}
}

func mustAddMember(t *testing.T, ac store.Accounts, room, user string) {
	t.Helper()
	if err := ac.AddMember(ctx(t), room, user); err != nil {
		t.Fatalf("AddMember(%q, %q): %v", room, user, err)
	}
}

func mustRemoveMember(t *testing.T, ac store.Accounts, room, user string) {
	t.Helper()
	if err := ac.RemoveMember(ctx(t), room, user); err != nil {
		t.Fatalf("RemoveMember(%q, %q): %v", room, user, err)
	}
}

func checkUser(t *testing.T, ac store.Accounts, exp store.User) {
	t.Helper()
	got, err := ac.User(ctx(t), exp.Key)
	if err != nil {
		t.Fatalf("User(%q): %v", exp.Key, err)
	}
	if got.Key != exp.Key || got.Name != exp.Name || got.PasswordHash != exp.PasswordHash || !sameTime(got.Created, exp.Created) {
		t.Fatalf("User(%q):\n got %#v\nwant %#v (time to the µs, UTC)", exp.Key, got, exp)
	}
}

func checkNoUser(t *testing.T, ac store.Accounts, key string) {
	t.Helper()
	if got, err := ac.User(ctx(t), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("User(%q) = %#v, %v; want ErrNotFound", key, got, err)
	}
}

func checkToken(t *testing.T, ac store.Accounts, exp store.Token) {
	t.Helper()
	got, err := ac.Token(ctx(t), exp.Hash)
	if err != nil {
		t.Fatalf("Token(%q): %v", exp.Hash, err)
	}
	if got.Hash != exp.Hash || got.User != exp.User || !sameTime(got.Created, exp.Created) || !sameTime(got.Expires, exp.Expires) {
		t.Fatalf("Token(%q):\n got %#v\nwant %#v (times to the µs, UTC)", exp.Hash, got, exp)
	}
}

func checkNoToken(t *testing.T, ac store.Accounts, hash string) {
	t.Helper()
	if got, err := ac.Token(ctx(t), hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Token(%q) = %#v, %v; want ErrNotFound", hash, got, err)
	}
}

func sameRoom(got, exp store.Room) bool {
	return got.Name == exp.Name && got.Owner == exp.Owner && got.Private == exp.Private && sameTime(got.Created, exp.Created)
}

func checkRoom(t *testing.T, ac store.Accounts, exp store.Room) {
	t.Helper()
	got, err := ac.Room(ctx(t), exp.Name)
	if err != nil {
		t.Fatalf("Room(%q): %v", exp.Name, err)
	}
	if !sameRoom(got, exp) {
		t.Fatalf("Room(%q):\n got %#v\nwant %#v (time to the µs, UTC)", exp.Name, got, exp)
	}
}

func checkNoRoom(t *testing.T, ac store.Accounts, name string) {
	t.Helper()
	if got, err := ac.Room(ctx(t), name); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Room(%q) = %#v, %v; want ErrNotFound", name, got, err)
	}
}

// checkMembers fails t unless the members of room are exactly exp, in that
// order.
func checkMembers(t *testing.T, ac store.Accounts, room string, exp ...string) {
	t.Helper()
	got, err := ac.Members(ctx(t), room)
	if err != nil {
		t.Fatalf("Members(%q): %v", room, err)
	}
	if !slices.Equal(got, exp) {
		t.Fatalf("Members(%q) = %q, want %q", room, got, exp)
	}
}

func checkIsMember(t *testing.T, ac store.Accounts, room, user string, exp bool) {
	t.Helper()
	got, err := ac.IsMember(ctx(t), room, user)
	if err != nil || got != exp {
		t.Fatalf("IsMember(%q, %q) = %v, %v; want %v", room, user, got, err, exp)
	}
}

// checkRoomsOf fails t unless the rooms of user are exactly exp, in that
// order.
func checkRoomsOf(t *testing.T, ac store.Accounts, user string, exp ...store.Room) {
	t.Helper()
	got, err := ac.RoomsOf(ctx(t), user)
	if err != nil {
		t.Fatalf("RoomsOf(%q): %v", user, err)
	}
	if !slices.EqualFunc(got, exp, sameRoom) {
		t.Fatalf("RoomsOf(%q):\n got %#v\nwant %#v", user, got, exp)
	}
}

// raceCreate runs create(0), ..., create(n-1) at once and fails t unless
// exactly one succeeds and all others fail with ErrExists. It returns the
// one that succeeded.
func raceCreate(t *testing.T, n int, create func(i int) error) int {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = create(i)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("creates %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrExists):
			t.Fatalf("create %d: %v, want success or ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no create succeeded")
	}
	return winner
}

func (s *accountsSuite) testEmpty(t *testing.T) {
	ac := s.newAccounts(t)
	checkNoUser(t, ac, "alice")
	checkNoUser(t, ac, "")
	checkNoToken(t, ac, "t1")
	checkNoRoom(t, ac, "lobby")
	checkMembers(t, ac, "lobby")
	checkIsMember(t, ac, "lobby", "alice", false)
	checkRoomsOf(t, ac, "alice")
	if err := ac.SetPassword(ctx(t), "alice", "h"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetPassword of an unknown user = %v, want ErrNotFound", err)
	}
	if err := ac.DeleteToken(ctx(t), "t1"); err != nil {
		t.Fatalf("DeleteToken of a missing token = %v", err)
	}
	if n, err := ac.DeleteExpiredTokens(ctx(t), base); err != nil || n != 0 {
		t.Fatalf("DeleteExpiredTokens on empty accounts = %d, %v", n, err)
	}
	if err := ac.AddMember(ctx(t), "lobby", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddMember to an unknown room = %v, want ErrNotFound", err)
	}
	checkMembers(t, ac, "lobby")
	mustRemoveMember(t, ac, "lobby", "alice")
}

func (s *accountsSuite) testUsers(t *testing.T) {
	ac := s.newAccounts(t)
	alice := user("alice")
	mustCreateUser(t, ac, alice)
	checkUser(t, ac, alice)

	// A second alice changes nothing.
	again := store.User{Key: "alice", Name: "ALICE", PasswordHash: "other", Created: base.Add(time.Hour)}
	if err := ac.CreateUser(ctx(t), again); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateUser of an existing key = %v, want ErrExists", err)
	}
	checkUser(t, ac, alice)

	// Keys are compared byte for byte: the caller folds case, and
	// normalizes Unicode if it wants to.
	for _, key := range []string{"Alice", "ALICE", "alice ", " alice", "alic", "alicee"} {
		checkNoUser(t, ac, key)
	}
	mustCreateUser(t, ac, user("Alice"))
	checkUser(t, ac, user("Alice"))
	checkUser(t, ac, alice)

	// A user that signs in with JWTs only has no password hash.
	jwtUser := store.User{Key: "jay", Name: "Jay", Created: base}
	mustCreateUser(t, ac, jwtUser)
	checkUser(t, ac, jwtUser)
	composed, decomposed := user("\u00e9mile"), user("e\u0301mile")
	mustCreateUser(t, ac, composed)
	mustCreateUser(t, ac, decomposed)
	checkUser(t, ac, composed)
	checkUser(t, ac, decomposed)
}

func (s *accountsSuite) testUsersConcurrent(t *testing.T) {
	ac := s.newAccounts(t)
	const n = 16
	winner := raceCreate(t, n, func(i int) error {
		u := user("racer")
		u.Name = fmt.Sprintf("racer %d", i)
		return ac.CreateUser(ctx(t), u)
	})
	exp := user("racer")
	exp.Name = fmt.Sprintf("racer %d", winner)
	checkUser(t, ac, exp)
}

func (s *accountsSuite) testSetPassword(t *testing.T) {
	ac := s.newAccounts(t)
	alice, bob := user("alice"), user("bob")
	mustCreateUser(t, ac, alice)
	mustCreateUser(t, ac, bob)
	mustCreateToken(t, ac, token("a1", "alice"))
	mustCreateToken(t, ac, token("a2", "alice"))
	mustCreateToken(t, ac, token("b1", "bob"))

	if err := ac.SetPassword(ctx(t), "alice", "new hash"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	alice.PasswordHash = "new hash"
	checkUser(t, ac, alice)
	checkNoToken(t, ac, "a1")
	checkNoToken(t, ac, "a2")
	checkUser(t, ac, bob)
	checkToken(t, ac, token("b1", "bob"))

	// An unknown user, also one that differs only in case, changes nothing.
	mustCreateToken(t, ac, token("a3", "alice"))
	for _, key := range []string{"carol", "ALICE", "Bob"} {
		if err := ac.SetPassword(ctx(t), key, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SetPassword(%q) = %v, want ErrNotFound", key, err)
		}
		checkNoUser(t, ac, key)
	}
	checkUser(t, ac, alice)
	checkUser(t, ac, bob)
	checkToken(t, ac, token("a3", "alice"))
	checkToken(t, ac, token("b1", "bob"))

	// Setting the same hash again still signs out every device.
	if err := ac.SetPassword(ctx(t), "bob", bob.PasswordHash); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	checkUser(t, ac, bob)
	checkNoToken(t, ac, "b1")
	checkToken(t, ac, token("a3", "alice"))
}

func (s *accountsSuite) testTokens(t *testing.T) {
	ac := s.newAccounts(t)
	mustCreateUser(t, ac, user("alice"))
	t1 := token("t1", "alice")
	mustCreateToken(t, ac, t1)
	checkToken(t, ac, t1)

	// A second token with the same hash changes nothing.
	if err := ac.CreateToken(ctx(t), token("t1", "bob")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateToken of an existing hash = %v, want ErrExists", err)
	}
	checkToken(t, ac, t1)
	checkNoToken(t, ac, "T1")

	t2 := token("t2", "alice")
	mustCreateToken(t, ac, t2)
	if err := ac.DeleteToken(ctx(t), "t1"); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	checkNoToken(t, ac, "t1")
	checkToken(t, ac, t2)
	for _, hash := range []string{"t1", "missing", "T2"} {
		if err := ac.DeleteToken(ctx(t), hash); err != nil {
			t.Fatalf("DeleteToken(%q) of a missing token = %v", hash, err)
		}
	}
	checkToken(t, ac, t2)
	// A deleted hash can be used again.
	mustCreateToken(t, ac, t1)
	checkToken(t, ac, t1)
}

func (s *accountsSuite) testTokensConcurrent(t *testing.T) {
	ac := s.newAccounts(t)
	const n = 16
	winner := raceCreate(t, n, func(i int) error {
		return ac.CreateToken(ctx(t), token("racer", fmt.Sprintf("user-%d", i)))
	})
	checkToken(t, ac, token("racer", fmt.Sprintf("user-%d", winner)))
}

func (s *accountsSuite) testExpiredTokens(t *testing.T) {
	ac := s.newAccounts(t)
	now := base // with nanoseconds: compared at the microsecond
	toks := map[string]time.Time{
		"long expired":  now.Add(-24 * time.Hour),
		"just expired":  now.Add(-time.Microsecond),
		"expires now":   now,
		"expires later": now.Add(time.Microsecond),
		"valid":         now.Add(24 * time.Hour),
	}
	for hash, exp := range toks {
		mustCreateToken(t, ac, store.Token{Hash: hash, User: "alice", Created: now.Add(-48 * time.Hour), Expires: exp})
	}
	// Token returns expired tokens too.
	for hash, exp := range toks {
		checkToken(t, ac, store.Token{Hash: hash, User: "alice", Created: now.Add(-48 * time.Hour), Expires: exp})
	}
	n, err := ac.DeleteExpiredTokens(ctx(t), now)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredTokens = %d, %v; want 2", n, err)
	}
	checkNoToken(t, ac, "long expired")
	checkNoToken(t, ac, "just expired")
	for _, hash := range []string{"expires now", "expires later", "valid"} {
		checkToken(t, ac, store.Token{Hash: hash, User: "alice", Created: now.Add(-48 * time.Hour), Expires: toks[hash]})
	}
	if n, err := ac.DeleteExpiredTokens(ctx(t), now); err != nil || n != 0 {
		t.Fatalf("a second DeleteExpiredTokens = %d, %v; want 0", n, err)
	}
	if n, err := ac.DeleteExpiredTokens(ctx(t), now.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("DeleteExpiredTokens an hour later = %d, %v; want 2", n, err)
	}
	checkToken(t, ac, store.Token{Hash: "valid", User: "alice", Created: now.Add(-48 * time.Hour), Expires: toks["valid"]})
}

func (s *accountsSuite) testRooms(t *testing.T) {
	ac := s.newAccounts(t)
	priv, pub := room("secret", "alice", true), room("lobby", "bob", false)
	mustCreateRoom(t, ac, priv)
	mustCreateRoom(t, ac, pub)
	checkRoom(t, ac, priv)
	checkRoom(t, ac, pub)
	checkMembers(t, ac, "secret", "alice")
	checkMembers(t, ac, "lobby", "bob")
	checkIsMember(t, ac, "secret", "alice", true)
	checkIsMember(t, ac, "secret", "bob", false)

	// A second room of the name changes nothing, and its owner does not
	// become a member.
	if err := ac.CreateRoom(ctx(t), room("secret", "mallory", false)); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateRoom of an existing name = %v, want ErrExists", err)
	}
	checkRoom(t, ac, priv)
	checkMembers(t, ac, "secret", "alice")
	checkRoomsOf(t, ac, "mallory")

	// Names are compared byte for byte.
	for _, name := range []string{"Secret", "SECRET", "secret ", "secre"} {
		checkNoRoom(t, ac, name)
	}
	checkNoRoom(t, ac, "unknown")
	mustCreateRoom(t, ac, room("Secret", "carol", false))
	checkRoom(t, ac, room("Secret", "carol", false))
	checkRoom(t, ac, priv)
}

func (s *accountsSuite) testRoomsConcurrent(t *testing.T) {
	ac := s.newAccounts(t)
	const n = 16
	winner := raceCreate(t, n, func(i int) error {
		return ac.CreateRoom(ctx(t), room("contested", fmt.Sprintf("owner-%d", i), i%2 == 0))
	})
	owner := fmt.Sprintf("owner-%d", winner)
	checkRoom(t, ac, room("contested", owner, winner%2 == 0))
	// Only the winner's transaction made its owner a member.
	checkMembers(t, ac, "contested", owner)
}

func (s *accountsSuite) testMembers(t *testing.T) {
	ac := s.newAccounts(t)
	mustCreateRoom(t, ac, room("r", "owner", true))
	mustCreateRoom(t, ac, room("other", "owner", false))
	// Keys a caller might produce, in no order; Members sorts them byte
	// for byte, as Go compares strings.
	keys := []string{"bob", "zed", "Zed", "alice", "alice2", "émile", "_under", "%pct", "10", "9", "ålice", "日本"}
	for _, k := range keys {
		mustAddMember(t, ac, "r", k)
	}
	mustAddMember(t, ac, "r", "bob") // again: not an error
	mustAddMember(t, ac, "r", "owner")
	exp := slices.Sorted(slices.Values(append(keys, "owner")))
	checkMembers(t, ac, "r", exp...)
	checkMembers(t, ac, "other", "owner")
	checkIsMember(t, ac, "r", "bob", true)
	checkIsMember(t, ac, "r", "Bob", false)
	checkIsMember(t, ac, "other", "bob", false)
	checkIsMember(t, ac, "R", "bob", false)

	// An unknown room: nothing is added anywhere.
	if err := ac.AddMember(ctx(t), "unknown", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddMember to an unknown room = %v, want ErrNotFound", err)
	}
	if err := ac.AddMember(ctx(t), "R", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddMember to a room that differs in case = %v, want ErrNotFound", err)
	}
	checkMembers(t, ac, "unknown")
	checkIsMember(t, ac, "unknown", "bob", false)
	checkRoomsOf(t, ac, "bob", room("r", "owner", true))

	mustRemoveMember(t, ac, "r", "bob")
	mustRemoveMember(t, ac, "r", "bob")    // again: not an error
	mustRemoveMember(t, ac, "r", "nobody") // never a member
	mustRemoveMember(t, ac, "unknown", "bob")
	mustRemoveMember(t, ac, "r", "ZED") // not zed
	checkIsMember(t, ac, "r", "bob", false)
	checkMembers(t, ac, "r", slices.DeleteFunc(exp, func(k string) bool { return k == "bob" })...)
	checkRoomsOf(t, ac, "bob")

	// The owner is a member like any other.
	mustRemoveMember(t, ac, "other", "owner")
	checkMembers(t, ac, "other")
	checkIsMember(t, ac, "other", "owner", false)
	checkRoom(t, ac, room("other", "owner", false))
	mustAddMember(t, ac, "other", "owner")
	checkIsMember(t, ac, "other", "owner", true)
}

func (s *accountsSuite) testRoomsOf(t *testing.T) {
	ac := s.newAccounts(t)
	owned := room("b-owned", "u", true)
	rooms := []store.Room{
		owned,
		room("A-joined", "x", false),
		room("c-left", "x", true),
		room("d-not-joined", "x", false),
		room("é-joined", "y", true),
		room("a-joined", "y", false),
	}
	for _, r := range rooms {
		mustCreateRoom(t, ac, r)
	}
	mustAddMember(t, ac, "é-joined", "u")
	mustAddMember(t, ac, "A-joined", "u")
	mustAddMember(t, ac, "c-left", "u")
	mustAddMember(t, ac, "a-joined", "u")
	mustAddMember(t, ac, "d-not-joined", "v")
	mustRemoveMember(t, ac, "c-left", "u")
	checkRoomsOf(t, ac, "u", rooms[1], rooms[5], owned, rooms[4])
	checkRoomsOf(t, ac, "U")
	checkRoomsOf(t, ac, "v", rooms[3])
	checkRoomsOf(t, ac, "x", rooms[1], rooms[2], rooms[3])
	checkRoomsOf(t, ac, "nobody")
}

func (s *accountsSuite) testRoomsOwned(t *testing.T) {
	ac := s.newAccounts(t)
	for _, r := range []store.Room{room("a", "u", true), room("b", "u", false), room("c", "x", true)} {
		mustCreateRoom(t, ac, r)
	}
	mustAddMember(t, ac, "c", "u") // a member, not an owner
	for user, exp := range map[string]int{"u": 2, "x": 1, "U": 0, "nobody": 0} {
		got, err := ac.RoomsOwned(ctx(t), user)
		if err != nil || got != exp {
			t.Errorf("RoomsOwned(%q) = %d, %v; want %d", user, got, err, exp)
		}
	}
}

func (s *accountsSuite) testRoomsNamed(t *testing.T) {
	ac := s.newAccounts(t)
	rooms := []store.Room{room("b", "u", true), room("A", "u", false), room("a", "v", true), room(trickyNames[0], "w", true)}
	for _, r := range rooms {
		mustCreateRoom(t, ac, r)
	}
	check := func(names []string, exp ...store.Room) {
		t.Helper()
		got, err := ac.RoomsNamed(ctx(t), names)
		if err != nil {
			t.Fatalf("RoomsNamed(%q): %v", names, err)
		}
		if !slices.EqualFunc(got, exp, sameRoom) {
			t.Fatalf("RoomsNamed(%q):\n got %#v\nwant %#v", names, got, exp)
		}
	}
	check(nil)
	check([]string{"missing", "B", "%"})
	check([]string{"b", "a", "missing", "b", trickyNames[0]}, rooms[3], rooms[2], rooms[0])
	// Enough names to need more than one statement where a store has a
	// bound on parameters.
	many := make([]string, 0, 2500)
	for i := range 2500 {
		many = append(many, fmt.Sprintf("n%d", i))
	}
	many = append(many, "A")
	check(many, rooms[1])
}

// trickyNames are names that break naive SQL or HTML handling. Unlike
// message texts, names are valid UTF-8 without U+0000 (see package store).
var trickyNames = []string{
	`'; DROP TABLE users; --`,
	`'; DROP TABLE tokens; --`,
	`x'); DELETE FROM members WHERE ('1'='1`,
	`" OR 1=1 -- `,
	`<script>alert(1)</script>`,
	`<b>&amp;&lt;</b>`,
	`it's "double" and 'single' and ` + "`back`",
	`back\slash \\ \' \" \n \%`,
	`100%`,
	`%`,
	`_`,
	`%_%`,
	`a_c`,
	`$1 $2 ? ?1 :name @p`,
	"tabs\tand\nnewlines\r\n",
	"héllo wörld — 世界 🎉 \u202eevil\u202c \ufeffbom",
}

func (s *accountsSuite) testLiteral(t *testing.T) {
	ac := s.newAccounts(t)
	for _, v := range trickyNames {
		mustCreateUser(t, ac, store.User{Key: v, Name: v, PasswordHash: v, Created: base})
		mustCreateToken(t, ac, token(v, v))
		mustCreateRoom(t, ac, room(v, v, true))
	}
	check := func() {
		t.Helper()
		for _, v := range trickyNames {
			checkUser(t, ac, store.User{Key: v, Name: v, PasswordHash: v, Created: base})
			checkToken(t, ac, token(v, v))
			checkRoom(t, ac, room(v, v, true))
			checkMembers(t, ac, v, v)
			checkRoomsOf(t, ac, v, room(v, v, true))
		}
	}
	check()
	// Each value selects only its own rows, also for deletes: after each
	// delete, every other value's rows are still there.
	others := func(v string) {
		t.Helper()
		for _, o := range trickyNames {
			if o != v {
				checkToken(t, ac, token(o, o))
				checkMembers(t, ac, o, o)
			}
		}
	}
	for _, v := range trickyNames {
		if err := ac.SetPassword(ctx(t), v, v); err != nil {
			t.Fatalf("SetPassword(%q): %v", v, err)
		}
		checkNoToken(t, ac, v)
		others(v)
		mustCreateToken(t, ac, token(v, v))
		if err := ac.DeleteToken(ctx(t), v); err != nil {
			t.Fatalf("DeleteToken(%q): %v", v, err)
		}
		checkNoToken(t, ac, v)
		others(v)
		mustCreateToken(t, ac, token(v, v))
		mustRemoveMember(t, ac, v, v)
		checkMembers(t, ac, v)
		others(v)
		mustAddMember(t, ac, v, v)
	}
	check()
}

// testNoWildcards checks that % and _ in keys, hashes and names are plain
// characters, not LIKE patterns, for every method.
func (s *accountsSuite) testNoWildcards(t *testing.T) {
	ac := s.newAccounts(t)
	mustCreateUser(t, ac, user("abc"))
	mustCreateToken(t, ac, token("tabc", "abc"))
	mustCreateRoom(t, ac, room("rabc", "abc", true))
	patterns := []string{"%", "_", "a_c", "ab%", "%c", "_bc", "%%", "a%c", "abc%", "abc_"}
	for _, p := range patterns {
		checkNoUser(t, ac, p)
		checkNoToken(t, ac, "t"+p)
		checkNoRoom(t, ac, "r"+p)
		checkMembers(t, ac, "r"+p)
		checkIsMember(t, ac, "r"+p, "abc", false)
		checkIsMember(t, ac, "rabc", p, false)
		checkRoomsOf(t, ac, p)
		if err := ac.SetPassword(ctx(t), p, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SetPassword(%q) = %v, want ErrNotFound", p, err)
		}
		if err := ac.AddMember(ctx(t), "r"+p, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("AddMember(%q) = %v, want ErrNotFound", "r"+p, err)
		}
		if err := ac.DeleteToken(ctx(t), "t"+p); err != nil {
			t.Fatalf("DeleteToken(%q): %v", "t"+p, err)
		}
		mustRemoveMember(t, ac, "r"+p, "abc")
		mustRemoveMember(t, ac, "rabc", p)
	}
	// The pattern-like names are distinct from abc when they are stored.
	for _, p := range patterns {
		mustCreateUser(t, ac, user(p))
		mustCreateToken(t, ac, token("t"+p, p))
		mustCreateRoom(t, ac, room("r"+p, p, false))
	}
	checkUser(t, ac, user("abc"))
	checkToken(t, ac, token("tabc", "abc"))
	checkRoom(t, ac, room("rabc", "abc", true))
	checkMembers(t, ac, "rabc", "abc")
	checkRoomsOf(t, ac, "abc", room("rabc", "abc", true))
	for _, p := range patterns {
		checkMembers(t, ac, "r"+p, p)
	}
}

func (s *accountsSuite) testTime(t *testing.T) {
	ac := s.newAccounts(t)
	times := []time.Time{
		base,
		{},
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999500, time.UTC), // before the epoch, below the µs
		time.Date(2262, 1, 1, 0, 0, 0, 1000, time.FixedZone("X", -7*3600)),
		time.Now(), // with a monotonic reading
	}
	for i, tm := range times {
		key := fmt.Sprintf("t%d", i)
		u := user(key)
		u.Created = tm
		mustCreateUser(t, ac, u)
		checkUser(t, ac, u)
		tok := store.Token{Hash: key, User: key, Created: tm, Expires: tm.Add(time.Hour)}
		mustCreateToken(t, ac, tok)
		checkToken(t, ac, tok)
		r := room(key, key, false)
		r.Created = tm
		mustCreateRoom(t, ac, r)
		checkRoom(t, ac, r)
		checkRoomsOf(t, ac, key, r)
	}
}

// testCopies checks that the slices a store returns are the caller's.
func (s *accountsSuite) testCopies(t *testing.T) {
	ac := s.newAccounts(t)
	mustCreateRoom(t, ac, room("a", "alice", false))
	mustCreateRoom(t, ac, room("b", "alice", false))
	mustAddMember(t, ac, "a", "bob")
	members, err := ac.Members(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	for i := range members {
		members[i] = "mallory"
	}
	rooms, err := ac.RoomsOf(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	for i := range rooms {
		rooms[i] = room("evil", "mallory", true)
	}
	checkMembers(t, ac, "a", "alice", "bob")
	checkRoomsOf(t, ac, "alice", room("a", "alice", false), room("b", "alice", false))
}

func (s *accountsSuite) testCanceled(t *testing.T) {
	ac := s.newAccounts(t)
	mustCreateUser(t, ac, user("alice"))
	mustCreateToken(t, ac, token("t1", "alice"))
	mustCreateRoom(t, ac, room("r", "alice", true))
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ac.CreateUser(c, user("bob")); err == nil {
		t.Fatal("CreateUser with a canceled context succeeded")
	}
	if err := ac.SetPassword(c, "alice", "new"); err == nil {
		t.Fatal("SetPassword with a canceled context succeeded")
	}
	if err := ac.CreateRoom(c, room("s", "alice", false)); err == nil {
		t.Fatal("CreateRoom with a canceled context succeeded")
	}
	if err := ac.AddMember(c, "r", "bob"); err == nil {
		t.Fatal("AddMember with a canceled context succeeded")
	}
	if _, err := ac.User(c, "alice"); err == nil {
		t.Fatal("User with a canceled context succeeded")
	}
	if _, err := ac.Members(c, "r"); err == nil {
		t.Fatal("Members with a canceled context succeeded")
	}
	// Nothing changed, and the store still works.
	checkNoUser(t, ac, "bob")
	checkUser(t, ac, user("alice"))
	checkToken(t, ac, token("t1", "alice"))
	checkNoRoom(t, ac, "s")
	checkMembers(t, ac, "r", "alice")
	mustCreateUser(t, ac, user("bob"))
	checkUser(t, ac, user("bob"))
}

func (s *accountsSuite) testPing(t *testing.T) {
	ac := s.open(t)
	if err := ac.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping of open accounts: %v", err)
	}
	if err := ac.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ac.Ping(ctx(t)); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

func (s *accountsSuite) testClose(t *testing.T) {
	ac := s.open(t)
	mustCreateUser(t, ac, user("alice"))
	if err := ac.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ac.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := ac.CreateUser(ctx(t), user("bob")); err == nil {
		t.Fatal("CreateUser after Close succeeded")
	}
	if _, err := ac.User(ctx(t), "alice"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("User after Close = %v, want an error other than ErrNotFound", err)
	}
}

func (s *accountsSuite) testReopen(t *testing.T) {
	if s.reopen == nil {
		t.Skip("the opener cannot reopen a database")
	}
	open := s.reopen(t)
	ac := open()
	alice, bob := user("alice"), user("bob")
	mustCreateUser(t, ac, alice)
	mustCreateUser(t, ac, bob)
	mustCreateToken(t, ac, token("a1", "alice"))
	mustCreateToken(t, ac, token("b1", "bob"))
	if err := ac.SetPassword(ctx(t), "alice", "changed"); err != nil {
		t.Fatal(err)
	}
	alice.PasswordHash = "changed"
	mustCreateToken(t, ac, token("a2", "alice"))
	priv, pub := room("priv", "alice", true), room("pub", "bob", false)
	mustCreateRoom(t, ac, priv)
	mustCreateRoom(t, ac, pub)
	mustAddMember(t, ac, "priv", "bob")
	mustAddMember(t, ac, "pub", "carol")
	mustRemoveMember(t, ac, "pub", "bob")
	if err := ac.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	ac = open()
	t.Cleanup(func() { ac.Close() })
	checkUser(t, ac, alice)
	checkUser(t, ac, bob)
	checkNoToken(t, ac, "a1")
	checkToken(t, ac, token("a2", "alice"))
	checkToken(t, ac, token("b1", "bob"))
	checkRoom(t, ac, priv)
	checkRoom(t, ac, pub)
	checkMembers(t, ac, "priv", "alice", "bob")
	checkMembers(t, ac, "pub", "carol")
	checkRoomsOf(t, ac, "bob", priv)
	// Uniqueness holds across the reopen.
	if err := ac.CreateUser(ctx(t), user("alice")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateUser after reopen = %v, want ErrExists", err)
	}
	if err := ac.CreateRoom(ctx(t), room("pub", "x", false)); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateRoom after reopen = %v, want ErrExists", err)
	}
}

// CheckMigratedV1 checks a store opened on a version 1 database (from
// before accounts) that held room "lobby" with LastSeq 9 and one message,
// seq 7 from "alice" with text "hi", client id "m7" at Unix second 1, and
// alice's read position 7 in it: the history is intact and accounts work.
func CheckMigratedV1(t *testing.T, s interface {
	store.Store
	store.Accounts
}) {
	t.Helper()
	ctx := context.Background()
	if last, err := s.LastSeq(ctx, "lobby"); err != nil || last != 9 {
		t.Fatalf("LastSeq after the migration = %d, %v; want 9", last, err)
	}
	want := store.Message{Room: "lobby", Seq: 7, From: "alice", Text: "hi", ClientMsgID: "m7", Time: time.Unix(1, 0).UTC()}
	if got, err := s.After(ctx, "lobby", 0, 10); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("After after the migration = %#v, %v; want %#v", got, err, want)
	}
	if pos, err := s.ReadPositions(ctx, "alice"); err != nil || pos["lobby"] != 7 {
		t.Fatalf("ReadPositions after the migration = %v, %v", pos, err)
	}
	if _, err := s.User(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("User on a migrated database = %v, want ErrNotFound", err)
	}
	u := store.User{Key: "alice", Name: "Alice", PasswordHash: "h", Created: time.Unix(2, 0).UTC()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser on a migrated database: %v", err)
	}
	if err := s.CreateRoom(ctx, store.Room{Name: "lobby", Owner: "alice", Created: u.Created}); err != nil {
		t.Fatalf("CreateRoom on a migrated database: %v", err)
	}
	if ok, err := s.IsMember(ctx, "lobby", "alice"); err != nil || !ok {
		t.Fatalf("IsMember on a migrated database = %v, %v", ok, err)
	}
}
