-- 0002: accounts: users, login tokens, owned rooms and their members.
--
-- Keys, names and hashes are text COLLATE "C": compared and sorted byte for
-- byte, as store.Accounts requires and as Go sorts strings, whatever the
-- database's default collation; "C" also makes their indexes cheaper.

-- One row per registered user, by its case-folded key.
CREATE TABLE users (
	user_key      text COLLATE "C" NOT NULL PRIMARY KEY,
	name          text             NOT NULL,
	password_hash text             NOT NULL,
	created       timestamptz      NOT NULL
);

-- Login tokens by the hash of their secret. No foreign key to users: the
-- contract lets a token name any key.
CREATE TABLE tokens (
	hash     text COLLATE "C" NOT NULL PRIMARY KEY,
	user_key text COLLATE "C" NOT NULL,
	created  timestamptz      NOT NULL,
	expires  timestamptz      NOT NULL
);

-- SetPassword deletes every token of a user.
CREATE INDEX tokens_user_key ON tokens (user_key);

-- DeleteExpiredTokens deletes by expiry.
CREATE INDEX tokens_expires ON tokens (expires);

-- Rooms that have an owner.
CREATE TABLE rooms (
	name       text COLLATE "C" NOT NULL PRIMARY KEY,
	owner      text COLLATE "C" NOT NULL,
	is_private boolean          NOT NULL,
	created    timestamptz      NOT NULL
);

-- Memberships; the primary key serves IsMember and Members. The foreign key
-- is how AddMember, in one statement, refuses an unknown room.
CREATE TABLE members (
	room     text COLLATE "C" NOT NULL REFERENCES rooms (name),
	user_key text COLLATE "C" NOT NULL,
	PRIMARY KEY (room, user_key)
);

-- RoomsOf: a user's rooms, in the order of their names.
CREATE INDEX members_user_key ON members (user_key, room);
