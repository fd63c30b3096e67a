-- 0005: the names held on each node of a cluster. A row is one node's hold
-- on a name (the case-folded key): a guest's with the hash of its session
-- token, a signed-in user's with none. The node renews its rows' lease
-- while it runs; a row whose lease passed belongs to a node that died.
CREATE TABLE name_claims (
	key        text        NOT NULL,
	node       text        NOT NULL,
	signed_in  boolean     NOT NULL,
	token_hash text        NOT NULL,
	gen        bigint      NOT NULL,
	expires    timestamptz NOT NULL,
	PRIMARY KEY (key, node)
);
CREATE INDEX name_claims_node ON name_claims (node);
