-- 0010: search folds accents: the index's tokenizer removes diacritics
-- (remove_diacritics 2, which also folds letters with several of them),
-- so that "cafe" finds "café" and the other way round, as PostgreSQL's
-- unaccent does in its index. The query's words pass through the same
-- tokenizer. The index is rebuilt for the messages already stored; the
-- triggers of 0008 are made again as they were, since they name the table.
DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_update;
DROP TRIGGER messages_search_delete;
DROP TABLE search_words;

CREATE VIRTUAL TABLE search_words USING fts5 (
	text, tags, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO search_words (search_words, rank) VALUES ('rank', 'bm25(1.0, 0.0)');

INSERT INTO search_words (rowid, text, tags)
	SELECT d.id, m.text, 'r' || hex(m.room) || ' f' || hex(m.sender)
	FROM search_docs d JOIN messages m ON m.room = d.room AND m.seq = d.seq;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.kind = '' BEGIN
	INSERT INTO search_docs (id, room, seq)
		SELECT CASE
				WHEN n IS NULL THEN b
				WHEN n < b + 65536 THEN n
				ELSE (SELECT max(id) + 1 FROM search_docs)
			END, new.room, new.seq
		FROM (SELECT b, (SELECT max(id) + 1 FROM search_docs WHERE id >= b AND id < b + 65536) AS n
			FROM (SELECT max(min(new.time_us / 1000, 70368744177664), -70368744177664) * 65536 AS b));
	INSERT INTO search_words (rowid, text, tags)
		SELECT id, new.text, 'r' || hex(new.room) || ' f' || hex(new.sender)
		FROM search_docs WHERE room = new.room AND seq = new.seq;
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages WHEN old.kind = '' BEGIN
	DELETE FROM search_words WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
	INSERT INTO search_words (rowid, text, tags)
		SELECT id, new.text, 'r' || hex(new.room) || ' f' || hex(new.sender)
		FROM search_docs WHERE room = new.room AND seq = new.seq AND new.deleted = 0;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages WHEN old.kind = '' BEGIN
	DELETE FROM search_words WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
	DELETE FROM search_docs WHERE room = old.room AND seq = old.seq;
END;
