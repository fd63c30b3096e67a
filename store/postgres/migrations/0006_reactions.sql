-- 0006: reactions. A react or unreact is a message row of its own (kind,
-- target, text = the emoji); this table holds the current reactions of
-- each chat message, one row per emoji and user, numbered by the seq of
-- the react that added it so that reads keep the order they were given.
CREATE TABLE reactions (
	room   text   NOT NULL,
	target bigint NOT NULL,
	emoji  text   NOT NULL,
	sender text   NOT NULL,
	seq    bigint NOT NULL,
	PRIMARY KEY (room, target, emoji, sender)
);
