-- 0008: full-text search. words is the tsvector of a chat message's
-- current text (kind ''), NULL for changes and deleted messages; the
-- store computes it in the statements that insert, edit and delete
-- messages, from the text made valid UTF-8 without U+0000 (text is bytea,
-- which to_tsvector cannot read), and Trim deletes it with its row. The
-- 'simple' configuration lower-cases words and neither stems them nor
-- drops stop words, so it serves every language alike.
ALTER TABLE messages ADD COLUMN words tsvector;

-- For the messages stored before: a text that is not valid UTF-8 (rare:
-- clients send JSON) is left out of the index rather than fail the
-- migration.
CREATE FUNCTION pg_temp.chatd_words(b bytea) RETURNS tsvector LANGUAGE plpgsql AS $$
BEGIN
	RETURN to_tsvector('simple', convert_from(b, 'UTF8'));
EXCEPTION WHEN others THEN
	RETURN NULL;
END $$;

UPDATE messages SET words = pg_temp.chatd_words(text) WHERE kind = '' AND NOT deleted;

CREATE INDEX messages_words ON messages USING gin (words) WHERE words IS NOT NULL;
