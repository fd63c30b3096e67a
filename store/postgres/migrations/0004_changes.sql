-- 0004: edits and deletes. A change is a message row of its own (kind,
-- target); the message it changes keeps its current state in its row:
-- the edited text and time, or deleted with its text removed.
ALTER TABLE messages
	ADD COLUMN kind    text        NOT NULL DEFAULT '',
	ADD COLUMN target  bigint      NOT NULL DEFAULT 0,
	ADD COLUMN edited  timestamptz,
	ADD COLUMN deleted boolean     NOT NULL DEFAULT false;

-- A delete removes the text of every edit of its target as well.
CREATE INDEX messages_target ON messages (room, target) WHERE target <> 0;
