-- The evidence vault: each subject's data key (wrapped under a key-encryption key), the
-- encrypted evidence behind records with its salted commitment, and erasures (after which the
-- data key and the ciphertexts are gone).
CREATE TABLE vault_keys (
    platform TEXT  NOT NULL,
    subject  BYTEA NOT NULL,
    kek_id   TEXT  NOT NULL,
    wrapped  BYTEA NOT NULL,
    PRIMARY KEY (platform, subject)
);
CREATE TABLE evidence (
    record_id          BIGINT  PRIMARY KEY REFERENCES records (id),
    evidence_record_id BIGINT  NOT NULL REFERENCES records (id),
    platform           TEXT    NOT NULL,
    subject            BYTEA   NOT NULL,
    media_type         TEXT    NOT NULL,
    size               INTEGER NOT NULL,
    salt               BYTEA   NOT NULL,
    commitment         BYTEA   NOT NULL,
    nonce              BYTEA,
    ciphertext         BYTEA,
    stored_at          BIGINT  NOT NULL
);
CREATE INDEX evidence_by_subject ON evidence (platform, subject, record_id);
CREATE TABLE erasures (
    platform  TEXT   NOT NULL,
    subject   BYTEA  NOT NULL,
    record_id BIGINT NOT NULL REFERENCES records (id),
    erased_at BIGINT NOT NULL,
    PRIMARY KEY (platform, subject)
);
