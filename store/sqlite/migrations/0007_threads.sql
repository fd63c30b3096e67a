-- 0007: replies and threads. A reply names the message it answers
-- (reply_to); a thread reply names its thread's root (thread), and
-- also_room = 1 when it is shown in the room as well. A root keeps the
-- summary of its thread in its row: how many replies, and the seq and
-- time of the newest.
ALTER TABLE messages ADD COLUMN reply_to       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN thread         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN also_room      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN replies        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_us  INTEGER NOT NULL DEFAULT 0;

-- A thread's replies, in order, for ThreadAfter and ThreadBefore.
CREATE INDEX messages_thread ON messages (room, thread, seq) WHERE thread <> 0;
