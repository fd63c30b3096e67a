-- 0011: the insert trigger of search finds a message's id with one seek.
-- It took the next id of the message's millisecond as max(id) + 1 over
-- that millisecond's range of ids, which SQLite computes by reading every
-- id in the range, and named that subquery three times, so each message
-- read its millisecond's ids three times: a cost that grows with the
-- messages stored in one millisecond, the busier the server the more.
-- The newest id in the range, read backwards from its end (ORDER BY id
-- DESC LIMIT 1), is the same id with one seek. The indexed words go in
-- under the id just inserted (last_insert_rowid(), which inside a trigger
-- is the trigger's own last insert) rather than under one looked up again
-- by (room, seq). The ids are the same as before: the next of the
-- message's millisecond; if 65,536 messages took that millisecond's ids,
-- the next id of all.
DROP TRIGGER messages_search_insert;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.kind = '' BEGIN
	INSERT INTO search_docs (id, room, seq)
		SELECT CASE
				WHEN c < b + 65536 THEN c
				ELSE (SELECT max(id) + 1 FROM search_docs)
			END, new.room, new.seq
		FROM (SELECT b, coalesce((SELECT id + 1 FROM search_docs WHERE id >= b AND id < b + 65536
				ORDER BY id DESC LIMIT 1), b) AS c
			FROM (SELECT max(min(new.time_us / 1000, 70368744177664), -70368744177664) * 65536 AS b));
	INSERT INTO search_words (rowid, text, tags)
		VALUES (last_insert_rowid(), new.text, 'r' || hex(new.room) || ' f' || hex(new.sender));
END;
