"""The disbursement rules as Python reads them over a subject's records: R1-R4 and R7 as the
contract enforces them (a simplified model, for measuring), and R9, which the risk warnings add.

The model of R1-R8 reads only the subject's own records and the phone index: R1 and R2 (an
active binding with at least two factors), R3 (unexpired lending consent), R4 (72 hours of
cooling after a rebind, a bind to a number another subject held, or a detected SIM swap of the
subject or of its phone) and R7 (no open loan past its grace period). R5, R6 and R8 never refuse
a disbursement in the simulated population (no freezes, no regulator actions), and R7's bounds
on open loans are not reached, so they are left out. It is a model for `risk evaluate`, not
the contract: the contract stays the authority on R1-R8.

R9: a subject warned by the risk model (a RiskWarning) is not disbursed to until a passed
liveness check and a passed SIM-swap check both arrive after the warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Purpose,
    Record,
    RiskWarning,
    Verification,
    VerificationMethod,
)
from ledger.risk.features import PhoneIndex, features_at
from ledger.risk.population import DAY, HOUR

COOLING_PERIOD = 72 * HOUR  # the contract's default coolingPeriod (R4)
MIN_FACTORS = 2  # its default minFactors (R2)
GRACE_PERIOD = 15 * DAY  # its default loan terms' gracePeriod (R7)
_MAX_DAYS_LATE = 18  # position of max_days_late in FEATURE_NAMES


def rules_refusal(records: Sequence[Record], phones: PhoneIndex, at: int) -> str | None:
    """The rule (R1, R2, R3, R4 or R7) that refuses a disbursement to the subject at `at`, or
    None. Requires the records of one subject at one platform."""
    past = sorted((r for r in records if r.timestamp < at), key=lambda r: r.timestamp)
    binding: Binding | None = None
    lending: Consent | None = None
    cooling_ends = 0
    swapped_phones: dict[bytes, int] = {}
    for r in past:
        if isinstance(r, Binding):
            binding = r
            reused = any(s != r.subject for _, s, _ in phones.before(r.phone, r.timestamp))
            if r.action is BindingAction.REBIND or (r.action is BindingAction.BIND and reused):
                cooling_ends = max(cooling_ends, r.timestamp + COOLING_PERIOD)
        elif isinstance(r, Consent) and r.purpose is Purpose.LENDING:
            lending = r
        elif (isinstance(r, Verification) and r.method is VerificationMethod.SIM_SWAP_CHECK
              and not r.passed):
            cooling_ends = max(cooling_ends, r.timestamp + COOLING_PERIOD)
            swapped_phones[r.phone] = r.timestamp + COOLING_PERIOD
    if binding is None or binding.action is BindingAction.UNBIND:
        return "R1"
    if binding.factors.bit_count() < MIN_FACTORS:
        return "R2"
    if lending is None or lending.action is ConsentAction.WITHDRAWN or lending.expires_at <= at:
        return "R3"
    if max(cooling_ends, swapped_phones.get(binding.phone, 0)) > at:
        return "R4"
    if features_at(records, phones, at)[_MAX_DAYS_LATE] * DAY > GRACE_PERIOD:
        return "R7"
    return None


def r9_refuses(records: Sequence[Record], at: int) -> RiskWarning | None:
    """The warning that stops a disbursement at `at` under R9: the subject's latest
    RiskWarning before `at` when no passed liveness check and no passed SIM-swap check have
    both followed it; None when R9 allows the disbursement. Requires `records` in the order
    they were logged: a check follows the warning when it was logged after it, even in the same
    second."""
    current = [r for r in records if r.timestamp < at]
    positions = [i for i, r in enumerate(current) if isinstance(r, RiskWarning)]
    if not positions:
        return None
    warning = current[positions[-1]]
    assert isinstance(warning, RiskWarning)
    cleared = {
        r.method
        for r in current[positions[-1] + 1:]
        if isinstance(r, Verification) and r.passed
    }
    needed = {VerificationMethod.LIVENESS, VerificationMethod.SIM_SWAP_CHECK}
    return None if needed <= cleared else warning
