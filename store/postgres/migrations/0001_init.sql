-- 0001: messages, per-room sequence counters, read positions.

-- One row per retained message. Seq is unique per room; the primary key
-- index (room, seq) serves After, Before, Oldest and Trim. text and
-- client_msg_id are bytea because they hold whatever the client sent,
-- which may include U+0000 (not allowed in PostgreSQL text).
CREATE TABLE messages (
	room          text        NOT NULL,
	seq           bigint      NOT NULL CHECK (seq > 0),
	sender        text        NOT NULL,
	text          bytea       NOT NULL,
	client_msg_id bytea       NOT NULL DEFAULT ''::bytea,
	time          timestamptz NOT NULL,
	PRIMARY KEY (room, seq)
);

-- FindClientMsg: only messages that carry an id are indexed.
CREATE INDEX messages_client_msg_id ON messages (room, sender, client_msg_id)
	WHERE client_msg_id <> ''::bytea;

-- The highest seq ever stored per room, kept when retention deletes the
-- messages, so that a sequence number is never reused.
CREATE TABLE room_seqs (
	room     text   NOT NULL PRIMARY KEY,
	last_seq bigint NOT NULL CHECK (last_seq >= 0)
);

-- How far each user has read each room; only ever moves forward.
CREATE TABLE read_positions (
	user_name text   NOT NULL,
	room      text   NOT NULL,
	seq       bigint NOT NULL CHECK (seq >= 0),
	PRIMARY KEY (user_name, room)
);
