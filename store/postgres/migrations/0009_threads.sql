-- 0009: replies and threads. A reply names the message it answers
-- (reply_to); a thread reply names its thread's root (thread), and
-- also_room is set when it is shown in the room as well. A root keeps the
-- summary of its thread in its row: how many replies, and the seq and
-- time of the newest.
ALTER TABLE messages
	ADD COLUMN reply_to       bigint      NOT NULL DEFAULT 0,
	ADD COLUMN thread         bigint      NOT NULL DEFAULT 0,
	ADD COLUMN also_room      boolean     NOT NULL DEFAULT false,
	ADD COLUMN replies        integer     NOT NULL DEFAULT 0,
	ADD COLUMN last_reply_seq bigint      NOT NULL DEFAULT 0,
	ADD COLUMN last_reply     timestamptz;

-- A thread's replies, in order, for ThreadAfter and ThreadBefore.
CREATE INDEX messages_thread ON messages (room, thread, seq) WHERE thread <> 0;
