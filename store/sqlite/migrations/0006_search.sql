-- 0006: full-text search. search_words is an FTS5 index of the current
-- text of every chat message (kind ''), without a copy of the text
-- (contentless, with deletes); search_docs gives each indexed message the
-- rowid FTS5 needs, since messages has none. A message's id is its time
-- in milliseconds times 2^16 plus a count within that millisecond, so that
-- the index lists hits newest first by walking its rowids backwards and
-- stops after a page, however many messages match. Triggers keep both in
-- step with messages in every transaction that writes them: Append, the
-- edits and deletes it applies, and Trim. (Milliseconds are clamped to
-- +-2^46, past the year 4000, so that ids fit in 63 bits.)
CREATE TABLE search_docs (
	id   INTEGER PRIMARY KEY,
	room TEXT    NOT NULL,
	seq  INTEGER NOT NULL
);

CREATE UNIQUE INDEX search_docs_message ON search_docs (room, seq);

-- remove_diacritics 0: a word matches as written, as in PostgreSQL's
-- 'simple' configuration, so that both stores find the same messages.
CREATE VIRTUAL TABLE search_words USING fts5 (
	text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO search_docs (id, room, seq)
	SELECT max(min(time_us / 1000, 70368744177664), -70368744177664) * 65536
		+ row_number() OVER (PARTITION BY time_us / 1000 ORDER BY room, seq) - 1, room, seq
	FROM messages WHERE kind = '' AND deleted = 0;

INSERT INTO search_words (rowid, text)
	SELECT d.id, m.text FROM search_docs d JOIN messages m ON m.room = d.room AND m.seq = d.seq;

-- The next id of the message's millisecond; if 65,536 messages took that
-- millisecond's ids, the next id of all.
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.kind = '' BEGIN
	INSERT INTO search_docs (id, room, seq)
		SELECT CASE
				WHEN n IS NULL THEN b
				WHEN n < b + 65536 THEN n
				ELSE (SELECT max(id) + 1 FROM search_docs)
			END, new.room, new.seq
		FROM (SELECT b, (SELECT max(id) + 1 FROM search_docs WHERE id >= b AND id < b + 65536) AS n
			FROM (SELECT max(min(new.time_us / 1000, 70368744177664), -70368744177664) * 65536 AS b));
	INSERT INTO search_words (rowid, text)
		SELECT id, new.text FROM search_docs WHERE room = new.room AND seq = new.seq;
END;

-- An edit replaces the indexed text; a delete (deleted = 1, text '')
-- removes it.
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages WHEN old.kind = '' BEGIN
	DELETE FROM search_words WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
	INSERT INTO search_words (rowid, text)
		SELECT id, new.text FROM search_docs WHERE room = new.room AND seq = new.seq AND new.deleted = 0;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages WHEN old.kind = '' BEGIN
	DELETE FROM search_words WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
	DELETE FROM search_docs WHERE room = old.room AND seq = old.seq;
END;
