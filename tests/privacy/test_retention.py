"""Erasure when retention ends (PIPL art. 47(1)): a purpose's retention period starts when the
purpose is achieved (every loan repaid) or its consent ends (withdrawn, refused, expired);
once every purpose of a subject has run its period, the anchoring worker's leader erases the
subject's evidence with an Erasure record of reason RETENTION. Tested with a moved clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from ledger.anchoring.worker import AnchorWorker
from ledger.chain.client import EmbeddedChain
from ledger.config import Platform, Settings
from ledger.core.records import (
    Consent,
    ConsentAction,
    Erasure,
    ErasureReason,
    LoanCreation,
    Purpose,
    Record,
    Repayment,
    Verification,
    VerificationMethod,
)
from ledger.privacy.retention import DAY_SECONDS, erasable_at, erase_expired
from ledger.privacy.setup import lenders, privacy_for
from ledger.privacy.vault import EvidenceErasedError
from ledger.runtime import open_ledger
from ledger.service import Accepted, Ledger
from ledger.store import SqliteStore

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
LOAN = bytes.fromhex("0a" * 32)
RETENTION = {Purpose.LENDING: 30, Purpose.CONTACT: 7}


@dataclass
class Clocked:
    ledger: Ledger
    platform: Platform
    now: int = T0

    def at(self, time: int) -> None:
        self.now = time

    def write(self, subject: bytes, make: Callable[..., Record], **members: object) -> Accepted:
        return self.ledger.sign_and_submit(self.platform, subject, lambda prev: make(
            platform=self.platform.address, subject=subject, prev=prev, timestamp=self.now,
            **members))

    def borrower(self, repaid: int, contact_withdrawn: bool = True) -> tuple[bytes, Accepted]:
        """A borrower with lending and contact consent, a verification with evidence, a loan
        of 300 of which `repaid` is repaid; contact consent withdrawn at once if asked."""
        subject = os.urandom(32)
        for purpose in (Purpose.LENDING, Purpose.CONTACT):
            self.write(subject, Consent, action=ConsentAction.GIVEN, purpose=purpose,
                       policy_hash=bytes(32), expires_at=T0 + 365 * DAY_SECONDS)
        verified = self.write(subject, Verification, method=VerificationMethod.SMS_OTP,
                              passed=True, phone=os.urandom(32))
        privacy_for(self.ledger).vault.attach(self.platform, verified.row, "text/plain",
                                              b"OTP delivered")
        self.write(subject, LoanCreation, loan=LOAN, due_times=(T0 + 30 * DAY_SECONDS,),
                   amounts=(300,))
        if contact_withdrawn:
            self.write(subject, Consent, action=ConsentAction.WITHDRAWN, purpose=Purpose.CONTACT,
                       policy_hash=bytes(32), expires_at=0)
        if repaid:
            self.write(subject, Repayment, loan=LOAN, amount=repaid)
        return subject, verified


@pytest.fixture
def clocked() -> Iterator[Clocked]:
    store = SqliteStore(":memory:")
    ledger = open_ledger(Settings(chain="embedded"), chain=EmbeddedChain(), store=store)
    rig = Clocked(ledger, lenders(ledger)[0])
    ledger._clock = lambda: rig.now
    yield rig
    store.close()


def erasures(ledger: Ledger, platform: str, subject: bytes) -> list[Erasure]:
    records = [ledger.read(r).record.record
               for r in ledger.store.records_of_subject(platform, subject)]
    return [r for r in records if isinstance(r, Erasure)]


def test_a_repaid_borrower_is_erased_when_retention_ends_an_owing_one_is_kept(
        clocked: Clocked) -> None:
    paid, paid_record = clocked.borrower(repaid=300)
    owing, owing_record = clocked.borrower(repaid=100)
    vault = privacy_for(clocked.ledger).vault

    clocked.at(T0 + 30 * DAY_SECONDS - 1)  # a second before the lending period ends
    assert erase_expired(clocked.ledger, RETENTION) == []
    assert vault.read(paid_record.row).content == b"OTP delivered"

    clocked.at(T0 + 30 * DAY_SECONDS)
    (erased,) = erase_expired(clocked.ledger, RETENTION)
    assert (erased.row.subject, erased.row.erased_at) == (paid, T0 + 30 * DAY_SECONDS)
    with pytest.raises(EvidenceErasedError):
        vault.read(paid_record.row)
    (erasure,) = erasures(clocked.ledger, clocked.platform.address, paid)
    assert (erasure.reason, erasure.items) == (ErasureReason.RETENTION, 1)

    # A loan still owed keeps the lending purpose going, however long; nothing is erased twice.
    clocked.at(T0 + 3650 * DAY_SECONDS)
    assert erase_expired(clocked.ledger, RETENTION) == []
    assert vault.read(owing_record.row).content == b"OTP delivered"
    assert erasures(clocked.ledger, clocked.platform.address, owing) == []


def test_a_purpose_without_a_retention_period_or_with_consent_given_keeps_the_data(
        clocked: Clocked) -> None:
    subject, _ = clocked.borrower(repaid=300, contact_withdrawn=False)  # contact consent given
    clocked.at(T0 + 400 * DAY_SECONDS)  # contact consent expired on day 365: ended
    assert erasable_at(records_of(clocked, subject), RETENTION, clocked.now) == (
        T0 + 372 * DAY_SECONDS)
    assert erasable_at(records_of(clocked, subject), {Purpose.LENDING: 30}, clocked.now) is None
    clocked.at(T0 + 100 * DAY_SECONDS)  # contact consent still given
    assert erasable_at(records_of(clocked, subject), RETENTION, clocked.now) is None
    assert erase_expired(clocked.ledger, {}) == []


def records_of(clocked: Clocked, subject: bytes) -> list[Record]:
    return [clocked.ledger.read(r).record.record
            for r in clocked.ledger.store.records_of_subject(clocked.platform.address, subject)]


def test_the_anchoring_workers_timed_round_erases_and_anchors(clocked: Clocked) -> None:
    subject, _ = clocked.borrower(repaid=300)
    clocked.at(T0 + 31 * DAY_SECONDS)
    worker = AnchorWorker(clocked.ledger, every_records=1000, every_seconds=0.05,
                          housekeeping=lambda: erase_expired(clocked.ledger, RETENTION))
    worker.start()
    try:
        assert worker.wait_for_round(3, timeout=30)
    finally:
        worker.stop()
    assert [e.reason for e in erasures(clocked.ledger, clocked.platform.address, subject)] == [
        ErasureReason.RETENTION]
    erasure = clocked.ledger.store.erasure(clocked.platform.address, subject)
    assert erasure is not None
    clocked.ledger.seal_and_anchor()
    assert clocked.ledger.is_anchored(clocked.ledger.store.get_record(erasure.record_id))


def test_retention_settings_name_purposes_and_days() -> None:
    settings = Settings(retention_days={"LENDING": 1825, "CONTACT": 365})
    assert settings.retention == {Purpose.LENDING: 1825, Purpose.CONTACT: 365}
    for bad in ({"LOANS": 30}, {"LENDING": -1}):
        with pytest.raises(ValidationError, match="BINDLEDGER_RETENTION_DAYS"):
            Settings(retention_days=bad)
