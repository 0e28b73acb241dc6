-- The evidence vault: each subject's data key (wrapped under a key-encryption key), the
-- encrypted evidence behind records with its salted commitment, and erasures (after which the
-- data key and the ciphertexts are gone). IF NOT EXISTS: files written before schema versions
-- may have the tables already.
CREATE TABLE IF NOT EXISTS vault_keys (
    platform TEXT NOT NULL,
    subject  BLOB NOT NULL,
    kek_id   TEXT NOT NULL,
    wrapped  BLOB NOT NULL,
    PRIMARY KEY (platform, subject)
);
CREATE TABLE IF NOT EXISTS evidence (
    record_id          INTEGER PRIMARY KEY REFERENCES records (id),
    evidence_record_id INTEGER NOT NULL REFERENCES records (id),
    platform           TEXT    NOT NULL,
    subject            BLOB    NOT NULL,
    media_type         TEXT    NOT NULL,
    size               INTEGER NOT NULL,
    salt               BLOB    NOT NULL,
    commitment         BLOB    NOT NULL,
    nonce              BLOB,
    ciphertext         BLOB,
    stored_at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS evidence_by_subject ON evidence (platform, subject, record_id);
CREATE TABLE IF NOT EXISTS erasures (
    platform  TEXT    NOT NULL,
    subject   BLOB    NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id),
    erased_at INTEGER NOT NULL,
    PRIMARY KEY (platform, subject)
);
