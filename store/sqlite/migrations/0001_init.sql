-- 0001: messages, per-room sequence counters, read positions.

-- One row per retained message, clustered by (room, seq) (WITHOUT ROWID),
-- so a room's messages lie together in seq order for After, Before, Oldest
-- and Trim.
CREATE TABLE messages (
	room          TEXT    NOT NULL,
	seq           INTEGER NOT NULL CHECK (seq > 0),
	sender        TEXT    NOT NULL,
	text          TEXT    NOT NULL,
	client_msg_id TEXT    NOT NULL DEFAULT '',
	time_us       INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
	PRIMARY KEY (room, seq)
) WITHOUT ROWID;

-- FindClientMsg: only messages that carry an id are indexed.
CREATE INDEX messages_client_msg_id ON messages (room, sender, client_msg_id)
	WHERE client_msg_id <> '';

-- The highest seq ever stored per room, kept when retention deletes the
-- messages, so that a sequence number is never reused.
CREATE TABLE room_seqs (
	room     TEXT    NOT NULL PRIMARY KEY,
	last_seq INTEGER NOT NULL CHECK (last_seq >= 0)
) WITHOUT ROWID;

-- How far each user has read each room; only ever moves forward.
CREATE TABLE read_positions (
	user_name TEXT    NOT NULL,
	room      TEXT    NOT NULL,
	seq       INTEGER NOT NULL CHECK (seq >= 0),
	PRIMARY KEY (user_name, room)
) WITHOUT ROWID;
