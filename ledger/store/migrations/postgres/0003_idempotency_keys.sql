-- Idempotency-Key headers: the digest of a platform's key, the keyed hash of the request it
-- came with, and the record that request wrote.
CREATE TABLE idempotency_keys (
    platform    TEXT        NOT NULL,
    key_hash    BYTEA       NOT NULL,
    fingerprint BYTEA       NOT NULL,
    record_id   BIGINT      NOT NULL REFERENCES records (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, key_hash)
);
