-- 0002: accounts: users, login tokens, owned rooms and their members.
--
-- Keys, names and hashes are TEXT compared with the BINARY collation, so
-- byte for byte, as store.Accounts requires. There are no foreign keys:
-- this database does not enable their enforcement, and the store checks
-- what the contract asks for (a member's room exists) itself, inside the
-- write transaction.

-- One row per registered user, by its case-folded key.
CREATE TABLE users (
	user_key      TEXT    NOT NULL PRIMARY KEY,
	name          TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	created_us    INTEGER NOT NULL -- microseconds since the Unix epoch, UTC
) WITHOUT ROWID;

-- Login tokens by the hash of their secret.
CREATE TABLE tokens (
	hash       TEXT    NOT NULL PRIMARY KEY,
	user_key   TEXT    NOT NULL,
	created_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL
) WITHOUT ROWID;

-- SetPassword deletes every token of a user.
CREATE INDEX tokens_user_key ON tokens (user_key);

-- DeleteExpiredTokens deletes by expiry.
CREATE INDEX tokens_expires ON tokens (expires_us);

-- Rooms that have an owner.
CREATE TABLE rooms (
	name       TEXT    NOT NULL PRIMARY KEY,
	owner      TEXT    NOT NULL,
	is_private INTEGER NOT NULL CHECK (is_private IN (0, 1)),
	created_us INTEGER NOT NULL
) WITHOUT ROWID;

-- Memberships, clustered by room for IsMember and Members.
CREATE TABLE members (
	room     TEXT NOT NULL,
	user_key TEXT NOT NULL,
	PRIMARY KEY (room, user_key)
) WITHOUT ROWID;

-- RoomsOf: a user's rooms, in the order of their names.
CREATE INDEX members_user_key ON members (user_key, room);
