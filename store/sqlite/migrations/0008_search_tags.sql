-- 0008: the room and the author of each indexed message become terms of
-- the search index, so that a search in one room or by one author is an
-- intersection of index entries instead of a check of every hit the walk
-- reads. search_words gets a second column, tags, holding 'r' and 'f'
-- followed by the hex of the room and of the sender: hex keeps each a
-- single token whatever characters the name holds, and a search matches
-- its words in the text column only, so that no word can match a tag.
-- bm25 weighs tags at 0: they do not change a message's rank.
DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_update;
DROP TRIGGER messages_search_delete;
DROP TABLE search_words;

CREATE VIRTUAL TABLE search_words USING fts5 (
	text, tags, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO search_words (search_words, rank) VALUES ('rank', 'bm25(1.0, 0.0)');

INSERT INTO search_words (rowid, text, tags)
	SELECT d.id, m.text, 'r' || hex(m.room) || ' f' || hex(m.sender)
	FROM search_docs d JOIN messages m ON m.room = d.room AND m.seq = d.seq;

-- As in 0006: the next id of the message's millisecond; if 65,536
-- messages took that millisecond's ids, the next id of all.
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

-- An edit replaces the indexed text; a delete (deleted = 1, text '')
-- removes it.
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
