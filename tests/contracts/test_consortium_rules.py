"""Contract v2: the rules hold across the consortium, and no member can harm another's borrowers.

Each test is one point of issue 10, reproduced as the attack or failure it describes, on
eth-tester and on anvil; each asserts the exact custom error and its arguments.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from ledger.core.records import (
    Binding,
    BindingAction,
    ChannelChange,
    Consent,
    ConsentAction,
    DisputeAction,
    LoanCreation,
    Purpose,
    Repayment,
    VerificationMethod,
)

from . import test_risk_rules as spec
from .test_risk_rules import (
    COOLING,
    CREATED,
    CURRENT,
    DAY,
    DEFAULT_AFTER,
    DEFAULTED,
    DELINQUENT,
    DISBURSED,
    GRACE,
    GRACE_PERIOD,
    GRACE_STATUS,
    HOUR,
    LOAN,
    LOAN_2,
    PLATFORM_ROLE,
    REGULATOR_ROLE,
    REPAID,
    SUBJECT,
    T0,
    WRITTEN_OFF,
    Platform,
    Rules,
    Schedule,
    ref,
)

# The rules' fixtures, on eth-tester and on anvil (see test_risk_rules.py).
w3 = spec.w3
rules = spec.rules
platform = spec.platform
other_platform = spec.other_platform

PHONE = ref("phone-1")
OTHER_SUBJECT = ref("subject-2")
DISPUTE_LIMIT = 90 * DAY
HORIZON = 5 * 365 * DAY
MAX_SKEW = 15 * 60
MAX_AGE = 30 * DAY


def _ready_at_both(platform: Platform, other_platform: Platform, schedule: Schedule) -> None:
    """The subject bound on PHONE, with consent, and a loan created at each platform."""
    platform.ready(SUBJECT, LOAN, schedule)
    other_platform.ready(SUBJECT, LOAN_2, schedule)


# --- 1. A takeover is stopped at every platform --------------------------------------------------


def test_p1_a_sim_swap_at_one_platform_stops_disbursement_at_another(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    _ready_at_both(platform, other_platform, Schedule.monthly(T0))
    receipt = platform.verify(SUBJECT, VerificationMethod.SIM_SWAP_CHECK, passed=False)
    ends = T0 + COOLING
    assert rules.events(receipt, "PhoneCoolingStarted") == [
        {"platform": platform.address, "phone": PHONE, "endsAt": ends}
    ]
    assert rules.phone(PHONE) == {"holder": SUBJECT, "coolingEndsAt": ends}
    assert rules.subject(other_platform, SUBJECT)["coolingEndsAt"] == ends
    # Same borrower, same number, same minute, another lender: refused (R4).
    assert other_platform.refused(other_platform.disbursement(SUBJECT, LOAN_2)) == (
        "RiskRulesCoolingPeriod", (SUBJECT, ends))
    rules.set_time(ends)
    other_platform.disburse(SUBJECT, LOAN_2)


def test_p1_a_sim_swap_cools_every_subject_bound_to_the_phone(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    # Another subject holds the phone at the other platform (the number was reused before).
    platform.bind(SUBJECT)
    other_platform.ready(OTHER_SUBJECT, LOAN_2, Schedule.monthly(T0 + 10 * DAY))
    rules.set_time(T0 + 4 * DAY)  # past the reuse's cooling
    platform.verify(SUBJECT, VerificationMethod.SIM_SWAP_CHECK, passed=False)
    ends = rules.now + COOLING
    assert other_platform.refused(other_platform.disbursement(OTHER_SUBJECT, LOAN_2)) == (
        "RiskRulesPhoneCoolingPeriod", (OTHER_SUBJECT, PHONE, ends))
    change = other_platform.make(ChannelChange, OTHER_SUBJECT, loan=LOAN_2, channel=ref("bank"))
    assert other_platform.refused(change) == (
        "RiskRulesPhoneCoolingPeriod", (OTHER_SUBJECT, PHONE, ends))


def test_p1_a_rebind_at_one_platform_cools_the_subject_at_every_platform(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    _ready_at_both(platform, other_platform, Schedule.monthly(T0))
    other_platform.disburse(SUBJECT, LOAN_2)
    rules.advance(HOUR)
    receipt = platform.bind(SUBJECT, action=BindingAction.REBIND)
    ends = rules.now + COOLING
    assert rules.events(receipt, "CoolingPeriodStarted") == [
        {"platform": platform.address, "subject": SUBJECT, "endsAt": ends}
    ]
    assert other_platform.refused(other_platform.make(
        ChannelChange, SUBJECT, loan=LOAN_2, channel=ref("attacker-bank"))) == (
        "RiskRulesCoolingPeriod", (SUBJECT, ends))
    other_platform.create_loan(SUBJECT, ref("loan-3"), Schedule.monthly(rules.now))
    assert other_platform.refused(other_platform.disbursement(SUBJECT, ref("loan-3"))) == (
        "RiskRulesCoolingPeriod", (SUBJECT, ends))


def test_p1_number_reuse_flags_the_previous_holder_and_cools_both(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0)
    _ready_at_both(platform, other_platform, schedule)
    platform.disburse(SUBJECT, LOAN)
    other_platform.disburse(SUBJECT, LOAN_2)
    rules.advance(DAY)
    # The carrier gave the number to someone else, who borrows at the other platform.
    receipt = other_platform.bind(OTHER_SUBJECT)
    ends = rules.now + COOLING
    assert rules.events(receipt, "NumberReused") == [
        {"platform": other_platform.address, "phone": PHONE, "previousHolder": SUBJECT,
         "newHolder": OTHER_SUBJECT}
    ]
    assert {(e["subject"], e["endsAt"]) for e in rules.events(receipt, "CoolingPeriodStarted")} == {
        (SUBJECT, ends), (OTHER_SUBJECT, ends)}
    assert rules.phone(PHONE)["holder"] == OTHER_SUBJECT
    # Repayment notices to that number would reach the wrong person: both of the previous
    # holder's loans are at contact risk, at either platform (R5).
    assert rules.loan(SUBJECT, LOAN, platform)["contactRisk"]
    assert rules.loan(SUBJECT, LOAN_2, other_platform)["contactRisk"]
    assert rules.borrower(SUBJECT)["numberReused"]
    other_platform.create_loan(OTHER_SUBJECT, ref("new-loan"), schedule)
    other_platform.consent(OTHER_SUBJECT)
    assert other_platform.refused(other_platform.disbursement(OTHER_SUBJECT, ref("new-loan"))) == (
        "RiskRulesCoolingPeriod", (OTHER_SUBJECT, ends))

    # The previous holder passes a liveness check at one platform: the reuse flag is cleared.
    receipt = platform.verify(SUBJECT, VerificationMethod.LIVENESS, passed=True)
    assert rules.events(receipt, "NumberReuseCleared") == [
        {"platform": platform.address, "subject": SUBJECT}
    ]
    assert not rules.loan(SUBJECT, LOAN_2, other_platform)["contactRisk"]
    # Binding the number again to its holder is no reuse.
    receipt = other_platform.bind(OTHER_SUBJECT, action=BindingAction.REBIND)
    assert rules.events(receipt, "NumberReused") == []


# --- 4. One member can neither block nor hide a borrower --------------------------------------


def test_p4_a_schedule_starts_after_creation_and_ends_within_five_years(
    rules: Rules, platform: Platform
) -> None:
    def creation(due_times: tuple[int, ...]) -> LoanCreation:
        record = platform.make(LoanCreation, SUBJECT, loan=LOAN, due_times=due_times,
                               amounts=(1,) * len(due_times))
        assert isinstance(record, LoanCreation)
        return record

    # Due in 1970, or now: DEFAULTED or late at every platform at once.
    assert platform.refused(creation((1,))) == ("RiskRulesScheduleNotInFuture", (LOAN, 1, T0))
    assert platform.refused(creation((T0,))) == ("RiskRulesScheduleNotInFuture", (LOAN, T0, T0))
    # Due near the end of uint64, where sums with it would overflow.
    for last in (T0 + HORIZON + 1, 2**64 - 1):
        assert platform.refused(creation((T0 + DAY, last))) == (
            "RiskRulesScheduleBeyondHorizon", (LOAN, last, T0 + HORIZON))
    platform.create_loan(SUBJECT, LOAN, Schedule((T0 + 1, T0 + HORIZON), (1, 1)))


def test_p4_one_platform_holds_at_most_three_of_a_borrowers_open_loans(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=1, amount=1)
    loans = [ref(f"loan-{i}") for i in range(4)]
    platform.bind(SUBJECT)
    platform.consent(SUBJECT)
    for loan in loans:
        platform.create_loan(SUBJECT, loan, schedule)
    for loan in loans[:3]:
        platform.disburse(SUBJECT, loan)
    assert platform.refused(platform.disbursement(SUBJECT, loans[3])) == (
        "RiskRulesPlatformShareOfOpenLoans", (SUBJECT, platform.address, 3))
    # The other members still have their share of the borrower's slots.
    other_platform.ready(SUBJECT, LOAN_2, schedule)
    other_platform.disburse(SUBJECT, LOAN_2)


def test_p4_a_dispute_stands_the_clock_for_at_most_the_limit(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=2)
    due = schedule.due_times[0]
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)
    # Opened before the first due date and never closed: the loan used to stay CURRENT forever.
    platform.dispute(SUBJECT, LOAN, DisputeAction.OPEN)
    rules.set_time(T0 + DISPUTE_LIMIT)
    assert rules.status(SUBJECT, LOAN) == CURRENT
    rules.set_time(due + DISPUTE_LIMIT + GRACE + 1)
    state = rules.loan(SUBJECT, LOAN)
    assert (state["status"], state["disputeOpen"]) == (DELINQUENT, True)
    # R7 counts it again at every platform.
    other_platform.ready(SUBJECT, LOAN_2, Schedule.monthly(rules.now))
    assert other_platform.refused(other_platform.disbursement(SUBJECT, LOAN_2)) == (
        "RiskRulesSubjectInArrears", (SUBJECT, platform.address, LOAN, DELINQUENT))
    # Closing and opening again does not renew the limit: it is the loan's, over all disputes.
    platform.dispute(SUBJECT, LOAN, DisputeAction.CLOSE)
    platform.dispute(SUBJECT, LOAN, DisputeAction.OPEN)
    rules.advance(30 * DAY)
    state = rules.loan(SUBJECT, LOAN)
    assert (state["status"], state["disputePaused"], state["pausedTotal"]) == (
        DELINQUENT, DISPUTE_LIMIT, DISPUTE_LIMIT)
    rules.set_time(due + DEFAULT_AFTER + DISPUTE_LIMIT)
    assert rules.status(SUBJECT, LOAN) == DEFAULTED


# --- 5. Amounts are checked --------------------------------------------------------------------


def test_p5_a_disbursement_is_the_schedule_total(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0, count=1, amount=100))
    for amount in (2**128 - 1, 99, 101, 0):
        assert platform.refused(platform.disbursement(SUBJECT, LOAN, amount)) == (
            "RiskRulesDisbursementNotScheduleTotal", (LOAN, amount, 100))
    platform.submit(platform.disbursement(SUBJECT, LOAN, 100))


def test_p5_a_repayment_is_more_than_zero_and_at_most_what_is_owed(
    rules: Rules, platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=2, amount=1_000)
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)

    def repayment(amount: int) -> Repayment:
        record = platform.make(Repayment, SUBJECT, loan=LOAN, amount=amount)
        assert isinstance(record, Repayment)
        return record

    assert platform.refused(repayment(0), *schedule.args()) == ("RiskRulesZeroRepayment", (LOAN,))
    for amount in (1_000_000, 2_001, 2**128 - 1):
        assert platform.refused(repayment(amount), *schedule.args()) == (
            "RiskRulesRepaymentExceedsOwed", (LOAN, amount, 2_000))
    platform.repay(SUBJECT, LOAN, 1_500, schedule)
    assert platform.refused(repayment(501), *schedule.args()) == (
        "RiskRulesRepaymentExceedsOwed", (LOAN, 501, 500))
    platform.repay(SUBJECT, LOAN, 500, schedule)
    state = rules.loan(SUBJECT, LOAN)
    assert (state["phase"], state["repaid"], state["total"]) == (REPAID, 2_000, 2_000)


# --- 6. Loan ids are the platform's -------------------------------------------------------------


def test_p6_a_loan_id_taken_first_elsewhere_does_not_block_the_rightful_platform(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=1, amount=100)
    # Another member, knowing the id, creates it first for the same borrower.
    other_platform.create_loan(SUBJECT, LOAN, Schedule.monthly(T0, count=1, amount=5))
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)
    assert rules.loan(SUBJECT, LOAN, platform)["phase"] == DISBURSED
    assert rules.loan(SUBJECT, LOAN, other_platform)["phase"] == CREATED
    # Each loan is its platform's alone.
    assert other_platform.refused(other_platform.make(
        Repayment, SUBJECT, loan=LOAN, amount=1), *schedule.args()) == (
        "RiskRulesWrongLoanPhase", (LOAN, CREATED, DISBURSED))


# --- 3. A freeze stands the lateness clock -------------------------------------------------------


def test_p3_a_frozen_loan_does_not_turn_late(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=2)
    due = schedule.due_times[0]
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)
    freeze = rules.contract.functions.setLoanFrozen
    rules.set_time(due - DAY)
    rules.transact(freeze(platform.address, SUBJECT, LOAN, True), rules.regulator)
    # No repayment can be taken while frozen, so no lateness may accrue either (a freeze has no
    # limit: the regulator ends it).
    rules.set_time(due + 400 * DAY)
    assert rules.status(SUBJECT, LOAN) == CURRENT
    other_platform.ready(SUBJECT, LOAN_2, Schedule.monthly(rules.now))
    other_platform.disburse(SUBJECT, LOAN_2)

    receipt = rules.transact(freeze(platform.address, SUBJECT, LOAN, False), rules.regulator)
    paused = 401 * DAY
    assert rules.events(receipt, "LoanFreezeChanged") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN, "frozen": False,
         "pausedTotal": paused, "regulator": rules.regulator}
    ]
    state = rules.loan(SUBJECT, LOAN)
    assert (state["status"], state["nextDue"], state["pausedTotal"], state["disputePaused"]) == (
        CURRENT, due + paused, paused, 0)
    rules.advance(DAY + 1)
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS


def test_p3_a_freeze_during_a_dispute_is_not_counted_twice(rules: Rules, platform: Platform) -> None:
    schedule = Schedule.monthly(T0, count=2)
    due = schedule.due_times[0]
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)
    freeze = rules.contract.functions.setLoanFrozen
    rules.set_time(due)
    platform.dispute(SUBJECT, LOAN, DisputeAction.OPEN)
    rules.advance(10 * DAY)
    rules.transact(freeze(platform.address, SUBJECT, LOAN, True), rules.regulator)
    rules.advance(200 * DAY)  # frozen: the dispute's limit is not used up meanwhile
    rules.transact(freeze(platform.address, SUBJECT, LOAN, False), rules.regulator)
    rules.advance(80 * DAY)  # the dispute's 90 days are used up now
    state = rules.loan(SUBJECT, LOAN)
    assert (state["status"], state["pausedTotal"], state["disputePaused"]) == (
        CURRENT, 210 * DAY, 10 * DAY)
    rules.advance(GRACE + 1)
    assert rules.status(SUBJECT, LOAN) == DELINQUENT


# --- 2. A removed platform's loans -------------------------------------------------------------


def test_p2_a_regulator_writes_off_the_loans_of_a_platform_that_left(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=1, amount=100)
    other_platform.ready(SUBJECT, LOAN_2, schedule)
    other_platform.disburse(SUBJECT, LOAN_2)
    functions = rules.contract.functions
    write_off = functions.writeOffLoan(other_platform.address, SUBJECT, LOAN_2)
    # While the platform is a member, its loans are its own to close.
    assert rules.revert_of(write_off, rules.regulator) == (
        "RiskRulesPlatformStillMember", (other_platform.address,))

    rules.transact(functions.revokeRole(PLATFORM_ROLE, other_platform.address), rules.admin)
    rules.set_time(schedule.due_times[0] + DEFAULT_AFTER)
    platform.ready(SUBJECT, LOAN, Schedule.monthly(rules.now))
    # Nothing can repay or close it: it blocks the borrower everywhere (R7).
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesSubjectInArrears", (SUBJECT, other_platform.address, LOAN_2, DEFAULTED))
    for sender in (rules.admin, rules.outsider):
        assert rules.revert_of(write_off, sender) == (
            "AccessControlUnauthorizedAccount", (sender, REGULATOR_ROLE))

    receipt = rules.transact(write_off, rules.regulator)
    assert rules.events(receipt, "LoanWrittenOff") == [
        {"platform": other_platform.address, "subject": SUBJECT, "loan": LOAN_2, "repaid": 0,
         "regulator": rules.regulator}
    ]
    state = rules.loan(SUBJECT, LOAN_2, other_platform)
    assert (state["phase"], state["status"]) == (WRITTEN_OFF, CURRENT)
    assert rules.borrower(SUBJECT)["openLoans"] == 0
    assert rules.revert_of(write_off, rules.regulator) == (
        "RiskRulesWrongLoanPhase", (LOAN_2, WRITTEN_OFF, DISBURSED))
    platform.disburse(SUBJECT, LOAN)


# --- 8. Record times -----------------------------------------------------------------------------


def test_p8_a_record_time_lies_within_the_window_around_block_time(
    rules: Rules, platform: Platform
) -> None:
    def binding(timestamp: int) -> Binding:
        record = platform.make(Binding, SUBJECT, action=BindingAction.BIND, phone=PHONE,
                               account=ref("account"), factors=3)
        object.__setattr__(record, "timestamp", timestamp)
        assert isinstance(record, Binding)
        return record

    for timestamp in (2**64 - 1, T0 + MAX_SKEW + 1):
        assert platform.refused(binding(timestamp)) == (
            "RiskRulesRecordTimeInFuture", (timestamp, T0 + MAX_SKEW))
    assert platform.refused(binding(T0 - MAX_AGE - 1)) == (
        "RiskRulesRecordTimeTooOld", (T0 - MAX_AGE - 1, T0 - MAX_AGE))
    platform.submit(binding(T0 + MAX_SKEW))
    consent = platform.make(Consent, SUBJECT, action=ConsentAction.GIVEN,
                            purpose=Purpose.LENDING, policy_hash=ref("p"), expires_at=T0 + DAY)
    object.__setattr__(consent, "timestamp", T0 - MAX_AGE)
    platform.submit(consent)


# --- 10. A frozen platform still anchors -------------------------------------------------------


def test_p10_a_frozen_platform_still_anchors_its_log(rules: Rules) -> None:
    # Anchoring changes no borrower's state; it only commits the platform to the log it has, which
    # is what a regulator investigating a frozen platform needs most.
    functions = rules.contract.functions
    anchorer = rules.w3.eth.accounts[5]
    rules.transact(functions.grantRole(PLATFORM_ROLE, anchorer), rules.admin)
    rules.transact(functions.setPlatformFrozen(anchorer, True), rules.regulator)
    root = keccak(b"\x00" + b"leaf")
    rules.transact(functions.anchorHead(1, root, []), anchorer)
    assert tuple(functions.latestHead(anchorer).call())[:2] == (root, 1)


# --- 7. Loan terms ----------------------------------------------------------------------------


def test_p7_a_loan_keeps_the_terms_in_force_when_it_was_created(
    rules: Rules, platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=2)
    due = schedule.due_times[0]
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)
    rules.set_time(due + 2 * DAY)
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS
    rules.transact(rules.contract.functions.setParameter(GRACE_PERIOD, 0), rules.admin)
    assert tuple(rules.contract.functions.parameters().call())[2] == 0
    # Two days late under 15 days of grace: still in grace, not DELINQUENT at once.
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS
    # A loan created after the change has the new terms: late by a second is DELINQUENT.
    later = Schedule((rules.now + DAY,), (100,))
    platform.create_loan(SUBJECT, LOAN_2, later)
    platform.disburse(SUBJECT, LOAN_2)
    rules.set_time(later.due_times[0] + 1)
    assert (rules.status(SUBJECT, LOAN), rules.status(SUBJECT, LOAN_2)) == (
        GRACE_STATUS, DELINQUENT)
    rules.set_time(due + GRACE + 1)
    assert rules.status(SUBJECT, LOAN) == DELINQUENT
