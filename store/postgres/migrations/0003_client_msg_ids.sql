-- 0003: the client message ids of messages numbered by the store
-- (AppendNumbered, a cluster's nodes). Each is claimed in the transaction
-- that stores its message, so that the same id sent to two nodes at once
-- is stored once: the second claim waits for the first transaction and
-- then finds the id taken. Messages appended with caller-given numbers
-- (one process) do not claim their ids here.
CREATE TABLE client_msg_ids (
	room          text  NOT NULL,
	sender        text  NOT NULL,
	client_msg_id bytea NOT NULL,
	PRIMARY KEY (room, sender, client_msg_id)
);
