-- The anchor life cycle (SEALED -> SENT -> INCLUDED -> FINAL) and leases with fencing tokens.
ALTER TABLE heads ADD COLUMN nonce BIGINT;
UPDATE heads SET state = 'INCLUDED' WHERE state = 'ANCHORED';
CREATE INDEX heads_by_block ON heads (block_number);
CREATE INDEX heads_unfinished ON heads (platform, tree_size) WHERE state <> 'FINAL';
CREATE TABLE anchor_transactions (
    seq       BIGSERIAL PRIMARY KEY,  -- the order they were stored in: oldest first
    platform  TEXT   NOT NULL,
    tree_size BIGINT NOT NULL,
    tx_hash   BYTEA  NOT NULL,
    UNIQUE (platform, tree_size, tx_hash)
);
INSERT INTO anchor_transactions (platform, tree_size, tx_hash)
    SELECT platform, tree_size, tx_hash FROM heads WHERE tx_hash IS NOT NULL
    ORDER BY platform, tree_size;
CREATE TABLE leases (
    name       TEXT             PRIMARY KEY,
    holder     TEXT             NOT NULL,
    token      BIGINT           NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
