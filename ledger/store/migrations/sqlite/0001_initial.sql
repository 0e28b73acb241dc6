-- Records in per-platform logs, and the heads sealed over them.
CREATE TABLE records (
    id          INTEGER PRIMARY KEY,
    platform    TEXT    NOT NULL,
    leaf_index  INTEGER NOT NULL,
    record_hash BLOB    NOT NULL UNIQUE,
    subject     BLOB    NOT NULL,
    record_type TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    UNIQUE (platform, leaf_index)
);
CREATE INDEX records_by_subject ON records (platform, subject, leaf_index);
CREATE TABLE heads (
    platform     TEXT    NOT NULL,
    tree_size    INTEGER NOT NULL,
    root_hash    BLOB    NOT NULL,
    sealed_at    INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    chain_id     INTEGER,
    contract     TEXT,
    tx_hash      BLOB,
    raw_tx       BLOB,
    block_number INTEGER,
    block_hash   BLOB,
    block_time   INTEGER,
    PRIMARY KEY (platform, tree_size)
);
