-- 0005: mentions. One row per chat message and user it names: seq is the
-- message, at the seq of the event that made the mention (the message, or
-- an edit that added the name), id the order of a user's mentions.
CREATE TABLE mentions (
	id        INTEGER PRIMARY KEY,
	user_name TEXT    NOT NULL,
	room      TEXT    NOT NULL,
	seq       INTEGER NOT NULL,
	at        INTEGER NOT NULL,
	UNIQUE (user_name, room, seq)
);
CREATE INDEX mentions_user ON mentions (user_name, id);
CREATE INDEX mentions_message ON mentions (room, seq);
