"""A subject's consent for a purpose, from its Consent records (W3C DPV states): the latest
record of the purpose decides; a given consent expires at `expiresAt`; consent for one purpose
says nothing of another; a purpose of BINDLEDGER_CONSENT_FIRST needs consent recorded first."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from ledger.chain.client import EmbeddedChain
from ledger.config import Settings
from ledger.core.records import Consent, ConsentAction, Purpose
from ledger.privacy.consent import (
    ConsentNotGivenError,
    ConsentState,
    consent_status,
    require_consent,
)
from ledger.privacy.setup import lenders
from ledger.runtime import open_ledger
from ledger.store import SqliteStore

PLATFORM = "0x" + "11" * 20
SUBJECT = bytes(range(32))
T0 = 1_767_225_600


def consent(action: ConsentAction, purpose: Purpose, at: int, expires_at: int = 0) -> Consent:
    return Consent(platform=PLATFORM, subject=SUBJECT, prev=bytes(32), timestamp=at,
                   action=action, purpose=purpose, policy_hash=bytes(32), expires_at=expires_at)


GIVEN, WITHDRAWN, REFUSED = ConsentAction.GIVEN, ConsentAction.WITHDRAWN, ConsentAction.REFUSED


@pytest.mark.parametrize(("records", "now", "state"), [
    ([], T0, ConsentState.UNKNOWN),
    ([consent(GIVEN, Purpose.LENDING, T0, T0 + 10)], T0 + 9, ConsentState.GIVEN),
    ([consent(GIVEN, Purpose.LENDING, T0, T0 + 10)], T0 + 10, ConsentState.EXPIRED),
    ([consent(GIVEN, Purpose.LENDING, T0, T0 + 10),
      consent(WITHDRAWN, Purpose.LENDING, T0 + 1)], T0 + 2, ConsentState.WITHDRAWN),
    ([consent(REFUSED, Purpose.LENDING, T0)], T0, ConsentState.REFUSED),
    ([consent(WITHDRAWN, Purpose.LENDING, T0),
      consent(GIVEN, Purpose.LENDING, T0 + 1, T0 + 99)], T0 + 2, ConsentState.GIVEN),
    # Another purpose's records say nothing of lending.
    ([consent(GIVEN, Purpose.MARKETING, T0, T0 + 99),
      consent(WITHDRAWN, Purpose.CONTACT, T0)], T0, ConsentState.UNKNOWN),
], ids=["none", "given", "expired", "withdrawn", "refused", "given-again", "other-purposes"])
def test_the_latest_consent_of_the_purpose_decides(
        records: list[Consent], now: int, state: ConsentState) -> None:
    status = consent_status(records, Purpose.LENDING, now)
    assert (status.purpose, status.state) == (Purpose.LENDING, state)


def test_a_consent_first_purpose_stops_a_subject_with_no_consent_recorded() -> None:
    store = SqliteStore(":memory:")
    settings = Settings(chain="embedded", consent_first=["IDENTITY_VERIFICATION"])
    ledger = open_ledger(settings, chain=EmbeddedChain(), store=store)
    platform = lenders(ledger)[0]
    subject = os.urandom(32)
    require_consent(ledger, platform.address, subject, Purpose.LENDING)  # not consent-first
    with pytest.raises(ConsentNotGivenError, match="no consent for IDENTITY_VERIFICATION") as exc:
        require_consent(ledger, platform.address, subject, Purpose.IDENTITY_VERIFICATION)
    assert exc.value.status.state is ConsentState.UNKNOWN
    ledger.sign_and_submit(platform, subject, lambda prev: Consent(
        platform=platform.address, subject=subject, prev=prev, timestamp=ledger.now(),
        action=GIVEN, purpose=Purpose.IDENTITY_VERIFICATION, policy_hash=bytes(32),
        expires_at=ledger.now() + 3600))
    require_consent(ledger, platform.address, subject, Purpose.IDENTITY_VERIFICATION)
    store.close()


def test_consent_first_names_purposes() -> None:
    with pytest.raises(ValidationError, match="BINDLEDGER_CONSENT_FIRST"):
        Settings(consent_first=["PROFILING"])
