"""A seeded simulator of borrower histories, as sequences of real record objects.

Each history is one subject at one platform: onboarding (bind, verify, consent), earlier loans
with their repayments, benign security events, and, for the adverse kinds, what a takeover or a
first-payment default leaves in the records; it ends with the disbursement the label is about.
Every rate is in `ledger.risk.population`. The same seed gives the same population, record for
record (one `random.Random` drives everything, in a fixed order).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.core.records import (
    ZERO_HASH,
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
    factor_mask,
)
from ledger.risk.population import (
    ADVERSE,
    DAY,
    DEFAULT_POPULATION,
    EPOCH,
    HOUR,
    Kind,
    Population,
)

_TWO_FACTORS = factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])
_POLICY = keccak(b"bindledger simulated privacy policy")
_INSTALLMENT = 1_000_00
_MONTH = 30 * DAY

_Make = Callable[[int], Record]


@dataclass(frozen=True)
class History:
    """One subject's records at one platform, oldest first; the last is the scored
    Disbursement, at `decided_at`."""

    subject: bytes
    kind: Kind
    records: tuple[Record, ...]

    @property
    def adverse(self) -> bool:
        return self.kind in ADVERSE

    @property
    def decided_at(self) -> int:
        return self.records[-1].timestamp

    @property
    def decision(self) -> Disbursement:
        last = self.records[-1]
        assert isinstance(last, Disbursement)
        return last


@dataclass(frozen=True)
class SimulatedPopulation:
    """The scored histories, and the records of earlier holders of recycled numbers (part of
    the ledger, never scored)."""

    seed: int
    histories: tuple[History, ...]
    others: tuple[Record, ...]

    def all_records(self) -> Iterator[Record]:
        for history in self.histories:
            yield from history.records
        yield from self.others


def simulate(size: int, seed: int, params: Population = DEFAULT_POPULATION) -> SimulatedPopulation:
    """`size` histories drawn with `seed`. Requires size >= 1."""
    if size < 1:
        raise ValueError("a population has at least one history")
    rng = random.Random(seed)
    platforms = [
        to_checksum_address(keccak(f"simulated platform {i}".encode())[-20:])
        for i in range(params.platforms)
    ]
    kinds = list(params.mix)
    weights = [params.mix[k] for k in kinds]
    drawn = rng.choices(kinds, weights, k=size)
    ring_phones = [rng.randbytes(32) for _ in range(max(1, drawn.count(Kind.CHANNEL_TAKEOVER)
                                                       // params.ring_size))]
    burner_phones = [rng.randbytes(32) for _ in range(max(1, drawn.count(Kind.FIRST_PAYMENT_DEFAULT)
                                                         // 2))]
    histories: list[History] = []
    others: list[Record] = []
    for kind in drawn:
        builder = _Builder(rng, params, rng.choice(platforms), rng.randbytes(32))
        if kind is Kind.RECYCLED_NUMBER:
            others.extend(_previous_holder(builder, rng.choice(platforms)))
        builder.live(kind, ring_phones, burner_phones)
        histories.append(History(builder.subject, kind, tuple(builder.sorted_records())))
    return SimulatedPopulation(seed, tuple(histories), tuple(others))


def _previous_holder(b: _Builder, platform: str) -> list[Record]:
    """The earlier holder of the number `b`'s borrower will get: bound long before."""
    p = b.params
    gap = b.rng.randint(*p.recycled_gap_days) * DAY
    bound_at = b.start - gap
    holder = _Builder(b.rng, p, platform, b.rng.randbytes(32))
    holder.phone = b.phone
    holder.add(bound_at, lambda t: holder.binding(t, BindingAction.BIND))
    holder.add(bound_at + 60, lambda t: holder.verification(
        t, VerificationMethod.LIVENESS, True, b.phone))
    if b.rng.random() < 0.5:
        holder.add(bound_at + gap // 2, lambda t: holder.binding(t, BindingAction.UNBIND))
    return holder.sorted_records()


class _Builder:
    """Builds one subject's records: events are drawn first, records made in time order."""

    def __init__(self, rng: random.Random, params: Population, platform: str, subject: bytes) -> None:
        self.rng = rng
        self.params = params
        self.platform = platform
        self.subject = subject
        self.phone = rng.randbytes(32)
        self.account = rng.randbytes(32)
        lo, hi = params.history_days
        self.span = rng.randint(lo, hi) * DAY
        self.start = EPOCH + rng.randint(0, 365 * DAY)
        self.events: list[tuple[int, int, _Make]] = []
        self.loans: list[bytes] = []

    # -- the story -------------------------------------------------------------------------

    def live(self, kind: Kind, ring_phones: list[bytes], burner_phones: list[bytes]) -> None:
        p, rng = self.params, self.rng
        failure = 1.0
        if kind is Kind.FIRST_PAYMENT_DEFAULT or (
                kind is Kind.ORDINARY and rng.random() < p.new_borrower):
            self.span = rng.randint(*p.fpd_history_days) * DAY + rng.randint(HOUR, DAY)
        if kind is Kind.FIRST_PAYMENT_DEFAULT:
            failure = p.fpd_failure_factor
            if rng.random() < p.fpd_shared_phone:
                self.phone = rng.choice(burner_phones)
        end = self.start + self.span
        carrier_fail = (p.recycled_carrier_match_fail if kind is Kind.RECYCLED_NUMBER
                        else p.carrier_match_fail * failure)
        self.onboard(self.start, failure, carrier_fail)
        if kind is not Kind.FIRST_PAYMENT_DEFAULT:
            count = rng.choices((0, 1, 2), p.prior_loan_weights)[0]
            for _ in range(count):
                latest = end - (p.installments + 1) * _MONTH
                if latest > self.start + DAY:
                    self.past_loan(rng.randint(self.start + DAY, latest))
            self.benign_events(end)
        if kind is Kind.SIM_SWAP_TAKEOVER:
            self.sim_swap_takeover(end)
        elif kind is Kind.CHANNEL_TAKEOVER:
            self.channel_takeover(end, rng.choice(ring_phones))
        loan = rng.randbytes(32)
        self.add(end - rng.randint(60, 2 * HOUR), lambda t: self.creation(t, loan))
        self.add(end, lambda t: Disbursement(self.platform, self.subject, ZERO_HASH, t, loan,
                                             _INSTALLMENT * p.installments))

    def onboard(self, t: int, failure: float, carrier_fail: float) -> None:
        p, rng = self.params, self.rng
        phone = self.phone
        self.add(t, lambda at: self.binding(at, BindingAction.BIND, phone))
        t = self.verify(t + 30, VerificationMethod.SMS_OTP, p.sms_otp_fail * failure, phone)
        t = self.verify(t + 30, VerificationMethod.LIVENESS, p.liveness_fail * failure, phone)
        if rng.random() < p.carrier_match_run:
            t = self.verify(t + 30, VerificationMethod.CARRIER_MATCH, carrier_fail, phone)
        self.add(t + 60, lambda at: self.consent(at, ConsentAction.GIVEN, Purpose.LENDING))
        self.add(t + 60, lambda at: self.consent(at, ConsentAction.GIVEN, Purpose.CONTACT))

    def verify(self, t: int, method: VerificationMethod, fail: float, phone: bytes) -> int:
        """Attempts until one passes (at most 3 failures); the time of the last attempt."""
        for _ in range(3):
            if self.rng.random() >= min(fail, 0.95):
                break
            self.add(t, lambda at: self.verification(at, method, False, phone))
            t += self.rng.randint(20, 600)
        self.add(t, lambda at: self.verification(at, method, True, phone))
        return t

    def past_loan(self, t: int) -> None:
        p, rng = self.params, self.rng
        loan = rng.randbytes(32)
        self.add(t, lambda at: self.creation(at, loan))
        self.add(t + HOUR, lambda at: Disbursement(self.platform, self.subject, ZERO_HASH, at,
                                                   loan, _INSTALLMENT * p.installments))
        for i in range(p.installments):
            due = t + (i + 1) * _MONTH
            paid = due - rng.randint(0, 3 * DAY)
            if rng.random() < p.late_installment:
                late = rng.randint(*p.late_days) * DAY
                paid = due + late
                if late > 3 * DAY:
                    self.add(due + 3 * DAY, partial(self.contact, loan=loan,
                                                    channel=rng.randbytes(32)))
            self.add(paid, lambda at: Repayment(self.platform, self.subject, ZERO_HASH, at,
                                                loan, _INSTALLMENT))
        if rng.random() < p.dispute:
            opened = t + rng.randint(DAY, 60 * DAY)
            self.add(opened, lambda at: Dispute(self.platform, self.subject, ZERO_HASH, at, loan,
                                                DisputeAction.OPEN))
            self.add(opened + 5 * DAY, lambda at: Dispute(self.platform, self.subject, ZERO_HASH,
                                                          at, loan, DisputeAction.CLOSE))
        self.loans.append(loan)

    def benign_events(self, end: int) -> None:
        p, rng = self.params, self.rng

        def when(recent: float) -> int:
            if rng.random() < recent:
                return end - rng.randint(2 * HOUR, 7 * DAY)
            return rng.randint(self.start + DAY, max(self.start + DAY, end - 7 * DAY))

        if rng.random() < p.benign_rebind:
            t, phone = when(p.benign_rebind_recent), rng.randbytes(32)
            self.add(t, lambda at: self.binding(at, BindingAction.REBIND, phone))
            self.add(t + 40, lambda at: self.verification(at, VerificationMethod.SMS_OTP,
                                                          True, phone))
            self.add(t + 80, lambda at: self.verification(at, VerificationMethod.SIM_SWAP_CHECK,
                                                          True, phone))
            self.phone = phone
        if rng.random() < p.benign_sim_swap:
            t, own = when(p.benign_sim_swap_recent), self.phone
            self.add(t, lambda at: self.verification(at, VerificationMethod.SIM_SWAP_CHECK,
                                                     False, own))
            self.add(t + rng.randint(60, 6 * HOUR), lambda at: self.verification(
                at, VerificationMethod.LIVENESS, True, own))
        if rng.random() < p.benign_channel_change and self.loans:
            t, loan, channel = when(p.benign_channel_change_recent), self.loans[-1], rng.randbytes(32)
            self.add(t, lambda at: ChannelChange(self.platform, self.subject, ZERO_HASH, at, loan,
                                                 channel))
        if rng.random() < p.consent_withdrawal:
            t = when(0.0)
            self.add(t, lambda at: self.consent(at, ConsentAction.WITHDRAWN, Purpose.LENDING))
            self.add(t + rng.randint(HOUR, 3 * DAY), lambda at: self.consent(
                at, ConsentAction.GIVEN, Purpose.LENDING))

    def attack_time(self, end: int) -> int:
        p, rng = self.params, self.rng
        if rng.random() < p.wait_out_cooling:
            hours = rng.uniform(*p.wait_out_hours)
        else:
            hours = rng.lognormvariate(math.log(p.hurry_median_hours), p.hurry_sigma)
            hours = min(max(hours, 0.5), 71.9)
        return end - int(hours * HOUR)

    def sim_swap_takeover(self, end: int) -> None:
        p, rng = self.params, self.rng
        t = self.attack_time(end)
        phone = self.phone
        if rng.random() < p.sim_swap_detected:
            self.add(t, lambda at: self.verification(at, VerificationMethod.SIM_SWAP_CHECK,
                                                     False, phone))
        self.add(t + 120, lambda at: self.verification(at, VerificationMethod.SMS_OTP, True,
                                                       phone))
        self.attacker_liveness(t + 300, phone)
        if self.loans and rng.random() < p.attacker_channel_change:
            loan, channel = self.loans[-1], rng.randbytes(32)
            self.add(t + 600, lambda at: ChannelChange(self.platform, self.subject, ZERO_HASH,
                                                       at, loan, channel))

    def channel_takeover(self, end: int, ring_phone: bytes) -> None:
        p, rng = self.params, self.rng
        t = self.attack_time(end)
        factors = factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.CARRIER_MATCH])
        self.add(t, lambda at: self.binding(at, BindingAction.REBIND, ring_phone, factors))
        self.add(t + 60, lambda at: self.verification(at, VerificationMethod.SMS_OTP, True,
                                                      ring_phone))
        self.verify(t + 120, VerificationMethod.CARRIER_MATCH, p.ring_carrier_match_fail,
                    ring_phone)
        self.attacker_liveness(t + 300, ring_phone)
        self.phone = ring_phone
        if self.loans and rng.random() < p.attacker_channel_change:
            loan, channel = self.loans[-1], rng.randbytes(32)
            self.add(t + 600, lambda at: ChannelChange(self.platform, self.subject, ZERO_HASH,
                                                       at, loan, channel))

    def attacker_liveness(self, t: int, phone: bytes) -> None:
        if self.rng.random() < self.params.attacker_liveness_fail:
            for i in range(self.rng.randint(1, 3)):
                self.add(t + 90 * i, lambda at: self.verification(
                    at, VerificationMethod.LIVENESS, False, phone))

    # -- records ---------------------------------------------------------------------------

    def add(self, t: int, make: _Make) -> None:
        self.events.append((t, len(self.events), make))

    def binding(self, t: int, action: BindingAction, phone: bytes | None = None,
                factors: int = _TWO_FACTORS) -> Binding:
        return Binding(self.platform, self.subject, ZERO_HASH, t, action, phone or self.phone,
                       self.account, factors)

    def verification(self, t: int, method: VerificationMethod, passed: bool,
                     phone: bytes) -> Verification:
        return Verification(self.platform, self.subject, ZERO_HASH, t, method, passed, phone)

    def consent(self, t: int, action: ConsentAction, purpose: Purpose) -> Consent:
        return Consent(self.platform, self.subject, ZERO_HASH, t, action, purpose, _POLICY,
                       t + 2 * 365 * DAY)

    def contact(self, t: int, loan: bytes, channel: bytes) -> CollectionContact:
        return CollectionContact(self.platform, self.subject, ZERO_HASH, t, loan, channel)

    def creation(self, t: int, loan: bytes) -> LoanCreation:
        n = self.params.installments
        return LoanCreation(self.platform, self.subject, ZERO_HASH, t, loan,
                            tuple(t + (i + 1) * _MONTH for i in range(n)), (_INSTALLMENT,) * n)

    def sorted_records(self) -> list[Record]:
        """The records in time order. Their `prev` is zero: no feature reads it, and hashing
        every record would double the simulator's time."""
        return [make(t) for t, _, make in sorted(self.events, key=lambda e: (e[0], e[1]))]

