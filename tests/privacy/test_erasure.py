"""Erasure on every store (SQLite and PostgreSQL): the evidence is unreadable afterwards, the
subject's timeline still verifies, and the Erasure record is anchored. Writing the Erasure
record and destroying the data key are one store transaction: a database failure between the
two steps (a real one, raised by a trigger in the database) leaves neither done."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from ledger.chain.client import EmbeddedChain
from ledger.config import Platform, Settings
from ledger.core.records import Erasure, ErasureReason, Verification, VerificationMethod
from ledger.privacy.setup import lenders, privacy_for
from ledger.privacy.vault import EvidenceErasedError
from ledger.runtime import open_ledger, release_relayer
from ledger.service import Accepted, Ledger
from ledger.store import SqliteStore
from ledger.store.base import ErasureNotStoredError, Store
from ledger.store.postgres import PostgresStore
from ledger.timeline import export_timeline, verify_timeline
from ledger.verify import verify_bundle

RECEIPT = b'{"otp":"delivered","at":"2025-01-02T03:04:05Z"}'
INJECTED = "injected failure: the vault key cannot be deleted"


@dataclass
class Setup:
    ledger: Ledger
    platform: Platform
    # Makes the database refuse to delete a wrapped data key (a trigger), then allows it again.
    refusing_key_deletion: Callable[[], AbstractContextManager[None]]


@contextmanager
def _sqlite_refusal(path: Path) -> Iterator[None]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "CREATE TRIGGER refuse_key_deletion BEFORE DELETE ON vault_keys"
            f" BEGIN SELECT RAISE(ABORT, '{INJECTED}'); END"
        )
        yield
        conn.execute("DROP TRIGGER refuse_key_deletion")
    finally:
        conn.close()


@contextmanager
def _postgres_refusal(url: str) -> Iterator[None]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse_key_deletion() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN RAISE EXCEPTION '{INJECTED}'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse_key_deletion BEFORE DELETE ON vault_keys"
            " FOR EACH ROW EXECUTE FUNCTION refuse_key_deletion()"
        )
        yield
        conn.execute("DROP TRIGGER refuse_key_deletion ON vault_keys")
        conn.execute("DROP FUNCTION refuse_key_deletion()")


@pytest.fixture(params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    store: Store
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        store = PostgresStore(url)
        refusal = lambda: _postgres_refusal(url)
    else:
        path = tmp_path / "ledger.db"
        store = SqliteStore(path)
        refusal = lambda: _sqlite_refusal(path)
    ledger = open_ledger(Settings(chain="embedded"), chain=EmbeddedChain(), store=store)
    yield Setup(ledger, lenders(ledger)[0], refusal)
    release_relayer(store)
    store.close()


def verified_record(ledger: Ledger, platform: Platform, subject: bytes) -> Accepted:
    return ledger.sign_and_submit(platform, subject, lambda prev: Verification(
        platform=platform.address, subject=subject, prev=prev, timestamp=ledger.now(),
        method=VerificationMethod.SMS_OTP, passed=True, phone=os.urandom(32)))


def erasures_of(ledger: Ledger, platform: str, subject: bytes) -> list[Erasure]:
    records = [ledger.read(row).record.record
               for row in ledger.store.records_of_subject(platform, subject)]
    return [r for r in records if isinstance(r, Erasure)]


def test_a_failure_between_the_erasure_record_and_the_key_leaves_neither(setup: Setup) -> None:
    ledger, platform = setup.ledger, setup.platform
    vault = privacy_for(ledger).vault
    subject = os.urandom(32)
    record = verified_record(ledger, platform, subject)
    vault.attach(platform, record.row, "application/json", RECEIPT)
    stored_before = ledger.store.records_of_subject(platform.address, subject)

    with setup.refusing_key_deletion(), pytest.raises(
            ErasureNotStoredError, match="nothing of it is stored"):
        vault.erase(platform, subject)
    # No half state: no Erasure record, no erasure remembered, the key and evidence intact.
    assert ledger.store.records_of_subject(platform.address, subject) == stored_before
    assert ledger.store.erasure(platform.address, subject) is None
    assert ledger.store.vault_key(platform.address, subject) is not None
    assert vault.read(record.row).content == RECEIPT
    # The log has no hole where the undone record was: the next record takes the next leaf.
    after = verified_record(ledger, platform, os.urandom(32))
    assert after.row.leaf_index == max(r.leaf_index for r in stored_before) + 1

    # Asked again, the erasure happens once, whole.
    erased = vault.erase(platform, subject)
    assert not erased.already
    assert [e.items for e in erasures_of(ledger, platform.address, subject)] == [1]
    assert ledger.store.vault_key(platform.address, subject) is None
    with pytest.raises(EvidenceErasedError):
        vault.read(record.row)


def test_after_erasure_the_evidence_is_gone_the_timeline_verifies_the_record_is_anchored(
        setup: Setup) -> None:
    ledger, platform = setup.ledger, setup.platform
    vault = privacy_for(ledger).vault
    subject = os.urandom(32)
    first, second = (verified_record(ledger, platform, subject) for _ in range(2))
    for record in (first, second):
        vault.attach(platform, record.row, "text/plain", RECEIPT)

    erased = vault.erase(platform, subject, ErasureReason.RETENTION)
    assert vault.erase(platform, subject).already  # the first erasure stands
    for record in (first, second):
        with pytest.raises(EvidenceErasedError):
            vault.read(record.row)
    assert vault.evidence_of_subject(platform.address, subject) == []
    assert all(row.ciphertext is None and row.nonce is None
               for row in ledger.store.evidence_of_subject(platform.address, subject))
    (erasure,) = erasures_of(ledger, platform.address, subject)
    assert (erasure.reason, erasure.items) == (ErasureReason.RETENTION, 2)

    ledger.seal_and_anchor()
    assert verify_bundle(ledger.proof_bundle(erased.row.record_id), ledger.chain).verified
    timeline = export_timeline(ledger, platform.address, subject)
    kinds = [entry.record.record.TYPE_NAME for entry in timeline.entries]
    assert kinds == ["Verification", "Verification", "Evidence", "Evidence", "Erasure"]
    assert verify_timeline(timeline, ledger.chain).verified
