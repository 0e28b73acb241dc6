"""Erasure when the retention period of every purpose has ended (PIPL art. 47(1), 19).

Each purpose has a retention period in settings (BINDLEDGER_RETENTION_DAYS, days per purpose).
A purpose's period starts when the purpose is achieved or its consent ends:

- LENDING is achieved when every loan of the subject is repaid in full (the last repayment);
  while a loan is owed it goes on, whatever its consent (the contract still binds);
  a subject that never borrowed ends it with its lending consent;
- every other purpose ends with its consent: withdrawn or refused (the record's time) or
  expired (`expiresAt`); a given, unexpired consent goes on.

A subject's evidence is under one data key, so it is erased (crypto-shredded, with an Erasure
record of reason RETENTION) once every purpose it served has ended and its period has run.
A purpose with no retention period configured keeps the data until an erasure is requested.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.core.records import (
    Consent,
    ErasureReason,
    LoanCreation,
    Purpose,
    Record,
    Repayment,
)
from ledger.errors import LedgerError
from ledger.privacy.consent import ConsentState, consent_status
from ledger.privacy.setup import privacy_for
from ledger.privacy.vault import Erased
from ledger.service import Ledger

log = logging.getLogger("bindledger.retention")

DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PurposeEnd:
    purpose: Purpose
    ended_at: int | None  # None while the purpose goes on


def purpose_ends(records: Sequence[Record], now: int) -> list[PurposeEnd]:
    """When each purpose the subject's `records` (in chain order) served ended, at `now`."""
    consents = [r for r in records if isinstance(r, Consent)]
    ends: dict[Purpose, int | None] = {}
    for purpose in dict.fromkeys(c.purpose for c in consents):
        status = consent_status(consents, purpose, now)
        if status.state is ConsentState.GIVEN:
            ends[purpose] = None
        elif status.state is ConsentState.EXPIRED:
            ends[purpose] = status.expires_at
        else:
            ends[purpose] = status.decided_at
    owed: dict[bytes, int] = {}
    repaid_at = 0
    for record in records:
        if isinstance(record, LoanCreation):
            owed[record.loan] = owed.get(record.loan, 0) + sum(record.amounts)
        elif isinstance(record, Repayment) and record.loan in owed:
            owed[record.loan] -= record.amount
            repaid_at = max(repaid_at, record.timestamp)
    if owed:
        ends[Purpose.LENDING] = repaid_at if all(v <= 0 for v in owed.values()) else None
    return [PurposeEnd(p, at) for p, at in ends.items()]


def erasable_at(records: Sequence[Record], retention_days: Mapping[Purpose, int],
                now: int) -> int | None:
    """When the subject's data may be erased: once every purpose ended and its retention
    period ran. None while a purpose goes on, has no period configured, or none is known."""
    ends = purpose_ends(records, now)
    if not ends:
        return None
    latest = 0
    for end in ends:
        days = retention_days.get(end.purpose)
        if end.ended_at is None or days is None:
            return None
        latest = max(latest, end.ended_at + days * DAY_SECONDS)
    return latest


def erase_expired(ledger: Ledger, retention_days: Mapping[Purpose, int]) -> list[Erased]:
    """Erase, with reason RETENTION, every subject holding evidence whose retention has run
    (`erasable_at` <= now). A subject that fails is logged and tried again next round."""
    if not retention_days:
        return []
    vault = privacy_for(ledger).vault
    now = ledger.now()
    done = []
    for key in ledger.store.vault_keys():
        records = [ledger.read(row).record.record
                   for row in ledger.store.records_of_subject(key.platform, key.subject)]
        due = erasable_at(records, retention_days, now)
        if due is None or due > now:
            continue
        try:
            done.append(vault.erase(ledger.platform(key.platform), key.subject,
                                    ErasureReason.RETENTION))
        except LedgerError as exc:
            log.error("retention erasure of a subject at %s failed, will retry: %s",
                      key.platform, exc)
    return done
