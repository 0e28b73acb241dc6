"""The store's part of the evidence vault: wrapped data keys, encrypted evidence, erasures.
Erasing a subject leaves no copy of its wrapped key in the database file or its WAL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger.store import SqliteStore, Store, StoreConflictError
from ledger.store.base import EvidenceRow, WrappedKey

P1 = "0x" + "11" * 20
SUBJECT, OTHER = os.urandom(32), os.urandom(32)


def evidence(store: Store, subject: bytes, n: int) -> EvidenceRow:
    record = store.add_record(P1, os.urandom(32), subject, "Binding", "{}")
    commitment = store.add_record(P1, os.urandom(32), subject, "Evidence", "{}")
    return EvidenceRow(record.id, commitment.id, P1, subject, "text/plain", 5, os.urandom(32),
                       os.urandom(32), os.urandom(12), os.urandom(21), 1_700_000_000 + n)


def test_a_subject_has_one_data_key_the_first_stored(store: Store) -> None:
    first = WrappedKey(P1, SUBJECT, "k1", os.urandom(60))
    assert store.vault_key(P1, SUBJECT) is None
    assert store.add_vault_key(first) == first
    assert store.add_vault_key(WrappedKey(P1, SUBJECT, "k1", os.urandom(60))) == first
    assert store.vault_key(P1, SUBJECT) == first


def test_keys_are_rewrapped_only_from_what_they_were(store: Store) -> None:
    old = store.add_vault_key(WrappedKey(P1, SUBJECT, "k1", os.urandom(60)))
    store.add_vault_key(WrappedKey(P1, OTHER, "k2", os.urandom(60)))
    assert store.vault_keys_not_under("k2") == [old]
    new = WrappedKey(P1, SUBJECT, "k2", os.urandom(60))
    assert store.rewrap_vault_key(old, new)
    assert not store.rewrap_vault_key(old, new)  # stale: already rewrapped
    assert store.vault_keys_not_under("k2") == []
    assert store.vault_key(P1, SUBJECT) == new


def test_a_record_has_at_most_one_evidence(store: Store) -> None:
    row = evidence(store, SUBJECT, 1)
    store.add_evidence(row)
    assert store.evidence_of_record(row.record_id) == row
    with pytest.raises(StoreConflictError):
        store.add_evidence(row)
    second = evidence(store, SUBJECT, 2)
    store.add_evidence(second)
    assert store.evidence_of_subject(P1, SUBJECT) == [row, second]
    assert store.evidence_of_subject(P1, OTHER) == []


def test_erasure_deletes_the_key_and_the_ciphertexts_and_is_remembered(store: Store) -> None:
    key = store.add_vault_key(WrappedKey(P1, SUBJECT, "k1", os.urandom(60)))
    kept = store.add_vault_key(WrappedKey(P1, OTHER, "k1", os.urandom(60)))
    row = evidence(store, SUBJECT, 1)
    store.add_evidence(row)
    erasure_record = store.add_record(P1, os.urandom(32), SUBJECT, "Erasure", "{}")
    erased = store.erase_subject(P1, SUBJECT, erasure_record.id, 1_800_000_000)
    assert (erased.record_id, erased.erased_at) == (erasure_record.id, 1_800_000_000)
    assert store.vault_key(P1, SUBJECT) is None and store.vault_key(P1, OTHER) == kept
    after = store.evidence_of_record(row.record_id)
    assert after is not None and (after.nonce, after.ciphertext) == (None, None)
    assert (after.salt, after.commitment) == (row.salt, row.commitment)
    assert store.erasure(P1, SUBJECT) == erased and store.erasure(P1, OTHER) is None
    assert store.erase_subject(P1, SUBJECT, erasure_record.id + 1, 1_900_000_000) == erased
    assert key.wrapped != kept.wrapped


def test_an_erased_key_is_in_neither_the_database_file_nor_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "vault.db"
    store = SqliteStore(path)
    try:
        key = store.add_vault_key(WrappedKey(P1, SUBJECT, "k1", os.urandom(60)))
        row = evidence(store, SUBJECT, 1)
        store.add_evidence(row)
        assert row.ciphertext is not None
        files = sorted(path.parent.glob(path.name + "*"))
        assert any(key.wrapped in f.read_bytes() for f in files)  # the scan sees it before
        # Staged records (an open transaction) do not keep the erasure from scrubbing.
        store.stage_record(P1, os.urandom(32), OTHER, "Binding", "{}")
        erasure_record = store.add_record(P1, os.urandom(32), SUBJECT, "Erasure", "{}")
        store.erase_subject(P1, SUBJECT, erasure_record.id, 1_800_000_000)
        for file in sorted(path.parent.glob(path.name + "*")):
            data = file.read_bytes()
            assert key.wrapped not in data, file.name
            assert row.ciphertext not in data, file.name
    finally:
        store.close()
