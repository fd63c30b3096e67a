-- 0009: reaction counts. How many users give each emoji to a message is
-- kept in reaction_counts by triggers on reactions, in the transaction
-- that adds or removes the reaction, so that reading a message's reactions
-- reads one row per emoji and its first users (reactions_by_seq) instead
-- of every user's row: during a storm of a thousand reactions to one
-- message, each reaction's check and each run's tally re-read them all.
-- reactions_by_sender finds one user's reactions to a message.
CREATE TABLE reaction_counts (
	room   TEXT    NOT NULL,
	target INTEGER NOT NULL,
	emoji  TEXT    NOT NULL,
	count  INTEGER NOT NULL,
	PRIMARY KEY (room, target, emoji)
) WITHOUT ROWID;

INSERT INTO reaction_counts (room, target, emoji, count)
	SELECT room, target, emoji, count(*) FROM reactions GROUP BY room, target, emoji;

CREATE INDEX reactions_by_seq ON reactions (room, target, emoji, seq);
CREATE INDEX reactions_by_sender ON reactions (room, target, sender);

CREATE TRIGGER reactions_counted_in AFTER INSERT ON reactions BEGIN
	INSERT INTO reaction_counts (room, target, emoji, count) VALUES (NEW.room, NEW.target, NEW.emoji, 1)
		ON CONFLICT (room, target, emoji) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER reactions_counted_out AFTER DELETE ON reactions BEGIN
	UPDATE reaction_counts SET count = count - 1
		WHERE room = OLD.room AND target = OLD.target AND emoji = OLD.emoji;
	DELETE FROM reaction_counts
		WHERE room = OLD.room AND target = OLD.target AND emoji = OLD.emoji AND count <= 0;
END;
