-- 0010: the orders a search walks. The GIN index on words finds the
-- messages that hold a word but not in time order, so for a common word
-- newest first would have to fetch and sort most of the messages; these
-- btree indexes of the indexed messages let the planner walk them newest
-- first and check the words on each instead, stopping after a page: all
-- of them, one room's, or one author's. For a rare word, the planner
-- (with the statistics ANALYZE and autovacuum keep) takes the GIN index.
CREATE INDEX messages_words_time ON messages (time, room, seq) WHERE words IS NOT NULL;
CREATE INDEX messages_words_room_time ON messages (room, time, seq) WHERE words IS NOT NULL;
CREATE INDEX messages_words_sender_time ON messages (sender, time, room, seq) WHERE words IS NOT NULL;
