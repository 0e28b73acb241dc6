"""The risk features of a subject at a time, from the records BindLedger holds.

One function, `features_at`, serves training (over simulated records) and scoring (over a
ledger's records). It reads keyed references, record kinds, outcomes and times only, and only
records strictly before the scoring time: a record at or after it cannot change the features,
so neither training nor a later audit can see the future.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ledger.core.records import (
    Binding,
    BindingAction,
    ChannelChange,
    CollectionContact,
    Consent,
    ConsentAction,
    Disbursement,
    Dispute,
    DisputeAction,
    LoanCreation,
    Purpose,
    Record,
    Repayment,
    Verification,
    VerificationMethod,
)
from ledger.risk.population import DAY, HOUR

# The features, in the order of the model's coefficients and of RiskWarning.top's ids. Append
# only: a feature's id is its position.
FEATURE_NAMES: tuple[str, ...] = (
    "rebinds_7d",
    "rebinds_30d",
    "rebinds_365d",
    "sim_swaps_3d",
    "sim_swaps_30d",
    "failed_sms_otp_30d",
    "failed_liveness_30d",
    "failed_carrier_match_30d",
    "log_hours_since_binding",
    "log_days_known",
    "consent_withdrawals_365d",
    "channel_changes_7d",
    "channel_changes_90d",
    "collection_contacts_90d",
    "disputes_365d",
    "phone_other_subjects",
    "phone_other_subjects_180d",
    "phone_platforms",
    "max_days_late",
    "earlier_loans",
    "log_hours_since_security_event",
)
# With no such event, "hours since" counts as a year.
_NEVER_HOURS = 365 * 24


def feature_list_hash(names: Sequence[str] = FEATURE_NAMES) -> bytes:
    """SHA-256 of the feature names, one per line (what ModelRelease.features holds)."""
    return hashlib.sha256("\n".join(names).encode()).digest()


@dataclass
class PhoneIndex:
    """Who was bound to each phone reference, and where: (time, subject, platform), by time."""

    bindings: dict[bytes, list[tuple[int, bytes, str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Iterable[Record]) -> PhoneIndex:
        by_phone: dict[bytes, list[tuple[int, bytes, str]]] = defaultdict(list)
        for record in records:
            if isinstance(record, Binding) and record.action is not BindingAction.UNBIND:
                by_phone[record.phone].append((record.timestamp, record.subject, record.platform))
        for entries in by_phone.values():
            entries.sort()
        return cls(dict(by_phone))

    def before(self, phone: bytes, at: int) -> list[tuple[int, bytes, str]]:
        """The phone's bindings strictly before `at`."""
        entries = self.bindings.get(phone, [])
        return entries[: bisect.bisect_left(entries, (at, b"", ""))]


def features_at(records: Sequence[Record], phones: PhoneIndex, at: int) -> list[float]:
    """The features of the subject whose records (at any platform, any order) are `records`,
    as they stood just before `at`. Requires every record to be of one subject."""
    past = sorted((r for r in records if r.timestamp < at), key=lambda r: r.timestamp)
    counts: dict[str, float] = defaultdict(float)

    def within(record: Record, seconds: int) -> bool:
        return at - record.timestamp <= seconds

    bound_at: int | None = None
    phone: bytes | None = None
    security: int | None = None
    loans: dict[bytes, LoanCreation] = {}
    disbursed: set[bytes] = set()
    repaid: dict[bytes, int] = defaultdict(int)
    for r in past:
        match r:
            case Binding():
                if r.action is not BindingAction.UNBIND:
                    bound_at, phone = r.timestamp, r.phone
                if r.action is BindingAction.REBIND:
                    security = r.timestamp
                    for days in (7, 30, 365):
                        counts[f"rebinds_{days}d"] += within(r, days * DAY)
            case Verification():
                if r.method is VerificationMethod.SIM_SWAP_CHECK and not r.passed:
                    security = r.timestamp
                    counts["sim_swaps_3d"] += within(r, 3 * DAY)
                    counts["sim_swaps_30d"] += within(r, 30 * DAY)
                elif not r.passed and within(r, 30 * DAY):
                    counts[f"failed_{r.method.name.lower()}_30d"] += 1
            case Consent():
                if r.action is ConsentAction.WITHDRAWN and r.purpose is Purpose.LENDING:
                    counts["consent_withdrawals_365d"] += within(r, 365 * DAY)
            case ChannelChange():
                security = r.timestamp
                counts["channel_changes_7d"] += within(r, 7 * DAY)
                counts["channel_changes_90d"] += within(r, 90 * DAY)
            case CollectionContact():
                counts["collection_contacts_90d"] += within(r, 90 * DAY)
            case Dispute():
                if r.action is DisputeAction.OPEN:
                    counts["disputes_365d"] += within(r, 365 * DAY)
            case LoanCreation():
                loans[r.loan] = r
            case Disbursement():
                disbursed.add(r.loan)
            case Repayment():
                repaid[r.loan] += r.amount
    counts["log_hours_since_binding"] = _log_hours(at, bound_at)
    counts["log_hours_since_security_event"] = _log_hours(at, security)
    counts["log_days_known"] = math.log1p((at - past[0].timestamp) / DAY) if past else 0.0
    counts["earlier_loans"] = len(disbursed)
    counts["max_days_late"] = max(
        (_days_late(loans[loan], repaid[loan], at) for loan in disbursed if loan in loans),
        default=0.0,
    )
    if phone is not None:
        subject = past[0].subject
        bound = phones.before(phone, at)
        others = {s for _, s, _ in bound if s != subject}
        counts["phone_other_subjects"] = len(others)
        counts["phone_other_subjects_180d"] = len(
            {s for t, s, _ in bound if s != subject and at - t <= 180 * DAY}
        )
        counts["phone_platforms"] = len({p for _, _, p in bound})
    return [float(counts[name]) for name in FEATURE_NAMES]


def _log_hours(at: int, since: int | None) -> float:
    hours = _NEVER_HOURS if since is None else min((at - since) / HOUR, _NEVER_HOURS)
    return math.log1p(hours)


def _days_late(loan: LoanCreation, repaid: int, at: int) -> float:
    """Days since the earliest installment due before `at` that `repaid` does not cover."""
    owed = 0
    for due, amount in zip(loan.due_times, loan.amounts, strict=True):
        if due >= at:
            break
        owed += amount
        if repaid < owed:
            return (at - due) / DAY
    return 0.0
