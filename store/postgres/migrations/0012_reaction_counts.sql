-- 0012: reaction counts. How many users give each emoji to a message is
-- kept in reaction_counts by a trigger on reactions, in the transaction
-- that adds or removes the reaction, so that reading a message's reactions
-- reads one row per emoji and its first users (reactions_by_seq) instead
-- of every user's row: during a storm of a thousand reactions to one
-- message, each reaction's check and each run's tally re-read them all.
-- reactions_by_sender finds one user's reactions to a message. A room's
-- appends hold its counter row's lock, so two transactions never update
-- one message's counts in opposite orders.
CREATE TABLE reaction_counts (
	room   text    NOT NULL,
	target bigint  NOT NULL,
	emoji  text    NOT NULL,
	count  integer NOT NULL,
	PRIMARY KEY (room, target, emoji)
);

INSERT INTO reaction_counts (room, target, emoji, count)
	SELECT room, target, emoji, count(*) FROM reactions GROUP BY room, target, emoji;

CREATE INDEX reactions_by_seq ON reactions (room, target, emoji, seq) INCLUDE (sender);
CREATE INDEX reactions_by_sender ON reactions (room, target, sender);

CREATE FUNCTION reactions_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO reaction_counts (room, target, emoji, count) VALUES (NEW.room, NEW.target, NEW.emoji, 1)
			ON CONFLICT (room, target, emoji) DO UPDATE SET count = reaction_counts.count + 1;
	ELSE
		DELETE FROM reaction_counts
			WHERE room = OLD.room AND target = OLD.target AND emoji = OLD.emoji AND count <= 1;
		IF NOT FOUND THEN
			UPDATE reaction_counts SET count = count - 1
				WHERE room = OLD.room AND target = OLD.target AND emoji = OLD.emoji;
		END IF;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER reactions_counted AFTER INSERT OR DELETE ON reactions
	FOR EACH ROW EXECUTE FUNCTION reactions_count();
