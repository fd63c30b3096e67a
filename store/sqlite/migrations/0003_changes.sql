-- 0003: edits and deletes. A change is a message row of its own (kind,
-- target); the message it changes keeps its current state in its row:
-- the edited text and edited_us, or deleted = 1 with its text removed.
ALTER TABLE messages ADD COLUMN kind      TEXT    NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN target    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted   INTEGER NOT NULL DEFAULT 0;

-- A delete removes the text of every edit of its target as well.
CREATE INDEX messages_target ON messages (room, target) WHERE target <> 0;
