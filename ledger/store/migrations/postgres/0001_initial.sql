-- Records in per-platform logs. A platform's row in `logs` is locked (FOR UPDATE) by every
-- transaction that appends to its log, so leaf indexes are assigned without gaps or
-- duplicates and commits happen in leaf order, whichever process writes.
CREATE TABLE logs (
    platform   TEXT   PRIMARY KEY,
    next_index BIGINT NOT NULL
);
CREATE TABLE records (
    id          BIGSERIAL PRIMARY KEY,
    platform    TEXT   NOT NULL,
    leaf_index  BIGINT NOT NULL,
    record_hash BYTEA  NOT NULL UNIQUE,
    subject     BYTEA  NOT NULL,
    record_type TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    UNIQUE (platform, leaf_index)
);
CREATE INDEX records_by_subject ON records (platform, subject, leaf_index);
CREATE TABLE heads (
    platform     TEXT    NOT NULL,
    tree_size    BIGINT  NOT NULL,
    root_hash    BYTEA   NOT NULL,
    sealed_at    BIGINT  NOT NULL,
    state        TEXT    NOT NULL,
    chain_id     BIGINT,
    contract     TEXT,
    tx_hash      BYTEA,
    raw_tx       BYTEA,
    block_number BIGINT,
    block_hash   BYTEA,
    block_time   BIGINT,
    PRIMARY KEY (platform, tree_size)
);
