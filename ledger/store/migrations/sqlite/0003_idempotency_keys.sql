-- Idempotency-Key headers: the digest of a platform's key, the keyed hash of the request it
-- came with, and the record that request wrote. IF NOT EXISTS: files written before schema
-- versions may have the table already.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    platform    TEXT    NOT NULL,
    key_hash    BLOB    NOT NULL,
    fingerprint BLOB    NOT NULL,
    record_id   INTEGER NOT NULL REFERENCES records (id),
    created_at  INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    PRIMARY KEY (platform, key_hash)
);
