-- 0004: reactions. A react or unreact is a message row of its own (kind,
-- target, text = the emoji); this table holds the current reactions of
-- each chat message, one row per emoji and user, numbered by the seq of
-- the react that added it so that reads keep the order they were given.
CREATE TABLE reactions (
	room   TEXT    NOT NULL,
	target INTEGER NOT NULL,
	emoji  TEXT    NOT NULL,
	sender TEXT    NOT NULL,
	seq    INTEGER NOT NULL,
	PRIMARY KEY (room, target, emoji, sender)
) WITHOUT ROWID;
