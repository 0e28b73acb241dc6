"""A subject's consent for one purpose, as its Consent records say (PIPL art. 14-15).

A platform records each consent given, withdrawn or refused as a Consent record in the
subject's chain, under the hash of the privacy policy the subject was shown (`policyHash`):
that document states the purpose, the legal basis (PIPL art. 13), the retention period and
how to withdraw (art. 17); the record carries its hash, so what the subject agreed to is
fixed by the chain. The latest Consent record of a purpose decides its state, named as in
W3C DPV's ConsentStatus (ISO/IEC TS 27560): given, withdrawn, refused, expired (a given one
whose `expiresAt` has passed), or unknown (none recorded).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ledger.core.records import Consent, ConsentAction, Purpose
from ledger.errors import LedgerError
from ledger.privacy.setup import privacy_for
from ledger.service import Ledger


class ConsentState(StrEnum):
    GIVEN = "given"  # dpv:ConsentGiven
    WITHDRAWN = "withdrawn"  # dpv:ConsentWithdrawn
    REFUSED = "refused"  # dpv:ConsentRefused
    EXPIRED = "expired"  # dpv:ConsentExpired
    UNKNOWN = "unknown"  # dpv:ConsentUnknown: no Consent record for the purpose


# States in which processing for the purpose must stop at once (art. 15: a withdrawal takes
# effect for what follows it).
STOPPED = frozenset({ConsentState.WITHDRAWN, ConsentState.REFUSED, ConsentState.EXPIRED})


@dataclass(frozen=True)
class ConsentStatus:
    """The state of the subject's consent for `purpose`, and the Consent record deciding it
    (None when there is none): when it was recorded and under which policy."""

    purpose: Purpose
    state: ConsentState
    decided_at: int | None = None
    policy_hash: bytes | None = None
    expires_at: int | None = None

    def describe(self) -> str:
        what = f"consent for {self.purpose.name}"
        if self.state is ConsentState.EXPIRED:
            return f"{what} expired at {self.expires_at}"
        if self.state is ConsentState.UNKNOWN:
            return f"no {what} is recorded"
        return f"{what} was {self.state.value} at {self.decided_at}"


class ConsentNotGivenError(LedgerError, PermissionError):
    """The subject's consent for the purpose of the request is withdrawn, refused or expired:
    the processing stops (403, naming the purpose and the consent's state)."""

    def __init__(self, status: ConsentStatus) -> None:
        super().__init__(
            f"{status.describe()}: processing for {status.purpose.name} has stopped"
        )
        self.status = status


def consent_status(consents: Iterable[Consent], purpose: Purpose, now: int) -> ConsentStatus:
    """The state of consent for `purpose` after `consents` (a subject's Consent records in
    chain order) at time `now`."""
    latest = None
    for consent in consents:
        if consent.purpose is purpose:
            latest = consent
    if latest is None:
        return ConsentStatus(purpose, ConsentState.UNKNOWN)
    if latest.action is ConsentAction.GIVEN:
        state = ConsentState.GIVEN if now < latest.expires_at else ConsentState.EXPIRED
    elif latest.action is ConsentAction.WITHDRAWN:
        state = ConsentState.WITHDRAWN
    else:
        state = ConsentState.REFUSED
    return ConsentStatus(purpose, state, latest.timestamp, latest.policy_hash, latest.expires_at)


def consents_of(ledger: Ledger, platform: str, subject: bytes) -> list[Consent]:
    """The subject's Consent records at `platform`, in chain order."""
    found = []
    for row in ledger.store.records_of_subject(platform, subject, Consent.TYPE_NAME):
        record = ledger.read(row).record.record
        assert isinstance(record, Consent)
        found.append(record)
    return found


def require_consent(ledger: Ledger, platform: str, subject: bytes, purpose: Purpose) -> None:
    """Raises ConsentNotGivenError when the subject's consent at `platform` for `purpose` is
    withdrawn, refused or expired now, or not recorded at all for a purpose of
    BINDLEDGER_CONSENT_FIRST. Otherwise a subject with no Consent record for the purpose is let
    through: the contract refuses lending and contact without consent (R3)."""
    status = consent_status(consents_of(ledger, platform, subject), purpose, ledger.now())
    if status.state in STOPPED or (
            status.state is ConsentState.UNKNOWN and purpose in privacy_for(ledger).consent_first):
        raise ConsentNotGivenError(status)
