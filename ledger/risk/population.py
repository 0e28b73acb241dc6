"""Every rate and parameter of the synthetic borrower population, in one place.

The numbers are assumptions chosen to make a plausible, not a measured, population: they are
not drawn from any platform's data. What the risk model learns, and what `bindledger risk
evaluate` reports, holds for this population only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

HOUR = 3_600
DAY = 24 * HOUR
# 2026-01-01T00:00:00Z: the simulated year starts here.
EPOCH = 1_767_225_600


class Kind(Enum):
    """The kinds of borrower history the simulator draws."""

    ORDINARY = "ordinary"
    # The carrier gave the borrower a number another subject held before (a hard negative:
    # the number is shared across subjects, the borrower is genuine).
    RECYCLED_NUMBER = "recycled number"
    # Someone took over the borrower's number at the carrier, then borrowed in the borrower's
    # name.
    SIM_SWAP_TAKEOVER = "SIM-swap takeover"
    # Someone took over the account: re-bound it to a phone of a ring (bound to several
    # victims) and changed the repayment channel, then borrowed.
    CHANNEL_TAKEOVER = "channel takeover"
    # A new borrower who never pays the first installment.
    FIRST_PAYMENT_DEFAULT = "first-payment default"


# An adverse history is one the platform should not have disbursed to without a second look.
ADVERSE = frozenset({Kind.SIM_SWAP_TAKEOVER, Kind.CHANNEL_TAKEOVER, Kind.FIRST_PAYMENT_DEFAULT})
TAKEOVERS = frozenset({Kind.SIM_SWAP_TAKEOVER, Kind.CHANNEL_TAKEOVER})


def _default_mix() -> dict[Kind, float]:
    return {
        Kind.ORDINARY: 0.80,
        Kind.RECYCLED_NUMBER: 0.06,
        Kind.SIM_SWAP_TAKEOVER: 0.05,
        Kind.CHANNEL_TAKEOVER: 0.04,
        Kind.FIRST_PAYMENT_DEFAULT: 0.05,
    }


@dataclass(frozen=True)
class Population:
    """The population's parameters; probabilities are per history unless said otherwise."""

    mix: dict[Kind, float] = field(default_factory=_default_mix)
    platforms: int = 2
    # History length before the scored disbursement, days (uniform).
    history_days: tuple[int, int] = (20, 400)
    # Share of ordinary borrowers who borrow as soon after binding as first-payment defaulters
    # do (fpd_history_days): being new is common, and must not alone look like fraud.
    new_borrower: float = 0.25
    # Earlier loans of a borrower (0, 1 or 2), with these weights.
    prior_loan_weights: tuple[float, float, float] = (0.4, 0.4, 0.2)
    installments: int = 3
    # Share of installments paid late, and how late (days, uniform).
    late_installment: float = 0.12
    late_days: tuple[int, int] = (1, 25)
    dispute: float = 0.01
    # Verification failures of an ordinary borrower, per attempt.
    sms_otp_fail: float = 0.06
    liveness_fail: float = 0.05
    carrier_match_fail: float = 0.04
    carrier_match_run: float = 0.5
    # Benign security events of an ordinary borrower.
    benign_rebind: float = 0.12
    benign_rebind_recent: float = 0.35  # share of benign rebinds in the week before borrowing
    benign_sim_swap: float = 0.04  # a new SIM of the borrower's own, detected by a check
    benign_sim_swap_recent: float = 0.3
    benign_channel_change: float = 0.10
    benign_channel_change_recent: float = 0.3
    consent_withdrawal: float = 0.03
    # Takeovers: how long the attacker waits between the takeover and the disbursement.
    # Some know the 72-hour cooling period (R4) and wait it out (uniform, hours); the others
    # borrow at once (log-normal hours, median and sigma, clipped to [0.5, 72)).
    wait_out_cooling: float = 0.45
    wait_out_hours: tuple[int, int] = (73, 240)
    hurry_median_hours: float = 6.0
    hurry_sigma: float = 1.0
    sim_swap_detected: float = 0.55  # the platform ran a SIM-swap check and it fired
    attacker_liveness_fail: float = 0.6  # the attacker tried liveness and failed (1-3 times)
    attacker_channel_change: float = 0.7
    ring_size: int = 3  # victims per ring phone in channel takeovers
    ring_carrier_match_fail: float = 0.4
    # First-payment defaults: new borrowers, more failed verifications, burner phones.
    fpd_history_days: tuple[int, int] = (0, 12)
    fpd_failure_factor: float = 3.0
    fpd_shared_phone: float = 0.3
    # Recycled numbers: the previous holder was bound this many days before (uniform).
    recycled_gap_days: tuple[int, int] = (200, 900)
    recycled_carrier_match_fail: float = 0.3


DEFAULT_POPULATION = Population()
