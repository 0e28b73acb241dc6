"""The store's idempotency keys, run against every implementation: a key names one request of
one platform (by its fingerprint) and the record that request wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store import SqliteStore, Store
from ledger.store.base import IdempotencyKeyConflictError, StoreConflictError
from tests.store.test_store import P1, P2, h

KEY, OTHER_KEY = b"\x01" * 32, b"\x02" * 32
FINGERPRINT, OTHER_FINGERPRINT = b"\xaa" * 32, b"\xbb" * 32


def test_an_unknown_key_is_none(store: Store) -> None:
    assert store.idempotency_key(P1, KEY) is None


def test_a_remembered_key_names_its_fingerprint_and_record(store: Store) -> None:
    row = store.add_record(P1, h(1), h(9), "Verification", "{}")
    store.remember_idempotency_key(P1, KEY, FINGERPRINT, row.id)
    assert store.idempotency_key(P1, KEY) == (FINGERPRINT, row.id)
    assert store.idempotency_key(P1, OTHER_KEY) is None


def test_remembering_the_same_request_again_changes_nothing(store: Store) -> None:
    row = store.add_record(P1, h(1), h(9), "Verification", "{}")
    store.remember_idempotency_key(P1, KEY, FINGERPRINT, row.id)
    store.remember_idempotency_key(P1, KEY, FINGERPRINT, row.id)
    assert store.idempotency_key(P1, KEY) == (FINGERPRINT, row.id)


def test_a_key_cannot_name_another_request(store: Store) -> None:
    first = store.add_record(P1, h(1), h(9), "Verification", "{}")
    second = store.add_record(P1, h(2), h(9), "Verification", "{}")
    store.remember_idempotency_key(P1, KEY, FINGERPRINT, first.id)
    with pytest.raises(IdempotencyKeyConflictError):
        store.remember_idempotency_key(P1, KEY, OTHER_FINGERPRINT, second.id)
    with pytest.raises(StoreConflictError):  # also for the same body naming another record
        store.remember_idempotency_key(P1, KEY, FINGERPRINT, second.id)
    assert store.idempotency_key(P1, KEY) == (FINGERPRINT, first.id)


def test_keys_are_scoped_by_platform(store: Store) -> None:
    mine = store.add_record(P1, h(1), h(9), "Verification", "{}")
    theirs = store.add_record(P2, h(2), h(9), "Verification", "{}")
    store.remember_idempotency_key(P1, KEY, FINGERPRINT, mine.id)
    store.remember_idempotency_key(P2, KEY, OTHER_FINGERPRINT, theirs.id)
    assert store.idempotency_key(P1, KEY) == (FINGERPRINT, mine.id)
    assert store.idempotency_key(P2, KEY) == (OTHER_FINGERPRINT, theirs.id)


def test_a_key_and_the_record_staged_before_it_are_durable_together(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    s = SqliteStore(path)
    rows, _ticket = s.stage_records([(P1, h(1), h(9), "Verification", "{}")])
    s.remember_idempotency_key(P1, KEY, FINGERPRINT, rows[0].id)
    reader = SqliteStore(path)  # another connection sees both, committed
    assert reader.get_record(rows[0].id) is not None
    assert reader.idempotency_key(P1, KEY) == (FINGERPRINT, rows[0].id)
    reader.close()
    s.close()
