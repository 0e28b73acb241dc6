-- The anchor life cycle (SEALED -> SENT -> INCLUDED -> FINAL) and leases with fencing tokens.
ALTER TABLE heads ADD COLUMN nonce INTEGER;
-- Heads anchored before finality was tracked count as INCLUDED until the watcher has seen
-- their blocks deep enough.
UPDATE heads SET state = 'INCLUDED' WHERE state = 'ANCHORED';
CREATE INDEX heads_by_block ON heads (block_number);
CREATE TABLE anchor_transactions (
    platform  TEXT    NOT NULL,
    tree_size INTEGER NOT NULL,
    tx_hash   BLOB    NOT NULL,
    PRIMARY KEY (platform, tree_size, tx_hash)
);
INSERT INTO anchor_transactions (platform, tree_size, tx_hash)
    SELECT platform, tree_size, tx_hash FROM heads WHERE tx_hash IS NOT NULL
    ORDER BY platform, tree_size;
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    token      INTEGER NOT NULL,
    expires_at REAL    NOT NULL
);
