-- 0013: search folds accents: words is computed with the text search
-- configuration chatd_words, the 'simple' one with the unaccent
-- dictionary (contrib's unaccent extension) before it, so that "cafe"
-- finds "café" and the other way round, as SQLite's remove_diacritics
-- does in its index; queries pass through the same configuration.
--
-- The extension lives once in a database, in one schema: chatd uses it
-- where it is if it is installed already (by an administrator, say, in
-- public), and otherwise creates it in its own schema (unaccent is a
-- trusted extension: a user who may create objects in the database may
-- create it).
-- A schema taken back to an earlier version (in tests) runs this again.
DROP TEXT SEARCH CONFIGURATION IF EXISTS chatd_words;
DROP TEXT SEARCH DICTIONARY IF EXISTS chatd_unaccent;

DO $$
DECLARE
	ext name;
BEGIN
	SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'unaccent';
	IF ext IS NULL THEN
		EXECUTE format('CREATE EXTENSION unaccent SCHEMA %I', current_schema());
		ext := current_schema();
	END IF;
	EXECUTE format('CREATE TEXT SEARCH DICTIONARY chatd_unaccent (TEMPLATE = %I.unaccent, RULES = %L)', ext, 'unaccent');
END $$;

CREATE TEXT SEARCH CONFIGURATION chatd_words (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION chatd_words
	ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart
	WITH chatd_unaccent, simple;

-- The index is rebuilt for the messages already stored. As in 0008, a
-- text that is not valid UTF-8 keeps the words it has rather than fail
-- the migration.
CREATE FUNCTION pg_temp.chatd_folded_words(b bytea) RETURNS tsvector LANGUAGE plpgsql AS $$
BEGIN
	RETURN to_tsvector('chatd_words', convert_from(b, 'UTF8'));
EXCEPTION WHEN others THEN
	RETURN NULL;
END $$;

UPDATE messages SET words = coalesce(pg_temp.chatd_folded_words(text), words) WHERE words IS NOT NULL;
