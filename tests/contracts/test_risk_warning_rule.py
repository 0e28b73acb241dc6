"""Rule R9 on chain: a subject the platform's risk model warned about (a RiskWarning relayed to
the contract) is not disbursed to at that platform until a passed LIVENESS and a passed
SIM_SWAP_CHECK verification both follow the warning in the subject's chain. On eth-tester and
on anvil; each refusal is asserted as its exact custom error and arguments.
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from ledger.core.records import RiskWarning, VerificationMethod
from ledger.risk.features import feature_list_hash

from . import test_risk_rules as spec
from .test_risk_rules import (
    DAY,
    LOAN,
    SUBJECT,
    T0,
    Platform,
    Rules,
    Schedule,
)

# The rules' fixtures, on eth-tester and on anvil (see test_risk_rules.py).
w3 = spec.w3
rules = spec.rules
platform = spec.platform
other_platform = spec.other_platform

LIVENESS = VerificationMethod.LIVENESS
SIM_SWAP_CHECK = VerificationMethod.SIM_SWAP_CHECK
MODEL = keccak(text="model file")


def warning(platform: Platform, **members: Any) -> RiskWarning:
    fields: dict[str, Any] = {"model": MODEL, "features": feature_list_hash(), "score": 8_100,
                              "threshold": 4_300, "top": (13, 4, 0)}
    record = platform.make(RiskWarning, SUBJECT, **{**fields, **members})
    assert isinstance(record, RiskWarning)
    return record


def warn(platform: Platform) -> RiskWarning:
    record = warning(platform)
    platform.submit(record)
    return record


def warning_state(rules: Rules, platform: Platform) -> tuple[int, int]:
    warned_at, checks = rules.contract.functions.riskWarningState(
        platform.address, SUBJECT).call()
    return int(warned_at), int(checks)


def refused_by_r9(platform: Platform, warned_at: int) -> bool:
    return platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesRiskWarning", (SUBJECT, warned_at))


def test_a_warning_extends_the_subjects_chain_with_its_python_hash(
        rules: Rules, platform: Platform) -> None:
    platform.bind(SUBJECT)
    record = warning(platform)
    receipt = platform.submit(record)
    digest = record.digest(rules.domain)
    assert rules.events(receipt, "RecordAccepted") == [
        {"platform": platform.address, "subject": SUBJECT, "record": digest}]
    assert rules.events(receipt, "RiskWarningRecorded") == [
        {"platform": platform.address, "subject": SUBJECT, "score": 8_100, "threshold": 4_300}]
    assert rules.subject(platform, SUBJECT)["head"] == digest
    assert warning_state(rules, platform) == (T0, 0)
    # The next record follows the warning.
    platform.verify(SUBJECT, LIVENESS, passed=True)
    assert warning_state(rules, platform) == (T0, 1 << LIVENESS)


def test_r9_a_warned_subject_is_disbursed_to_only_after_both_fresh_checks_pass(
        rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    rules.advance(DAY)
    warn(platform)
    assert refused_by_r9(platform, T0 + DAY)
    receipt = platform.verify(SUBJECT, LIVENESS, passed=True)
    assert rules.events(receipt, "RiskWarningLifted") == []
    assert refused_by_r9(platform, T0 + DAY)  # one check of the two
    receipt = platform.verify(SUBJECT, SIM_SWAP_CHECK, passed=True)
    assert rules.events(receipt, "RiskWarningLifted") == [
        {"platform": platform.address, "subject": SUBJECT, "warnedAt": T0 + DAY}]
    assert warning_state(rules, platform) == (0, 0)
    receipt = platform.disburse(SUBJECT, LOAN)
    assert len(rules.events(receipt, "LoanDisbursed")) == 1


def test_r9_checks_passed_before_the_warning_do_not_count(
        rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.verify(SUBJECT, LIVENESS, passed=True)
    platform.verify(SUBJECT, SIM_SWAP_CHECK, passed=True)
    warn(platform)
    assert warning_state(rules, platform) == (T0, 0)
    assert refused_by_r9(platform, T0)


def test_r9_failed_checks_do_not_count(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    warn(platform)
    platform.verify(SUBJECT, LIVENESS, passed=False)
    platform.verify(SUBJECT, SIM_SWAP_CHECK, passed=True)
    assert refused_by_r9(platform, T0)
    platform.verify(SUBJECT, LIVENESS, passed=True)
    platform.disburse(SUBJECT, LOAN)


def test_r9_a_later_warning_starts_the_wait_again(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    warn(platform)
    platform.verify(SUBJECT, LIVENESS, passed=True)
    rules.advance(DAY)
    warn(platform)
    platform.verify(SUBJECT, SIM_SWAP_CHECK, passed=True)
    # The liveness check came before the second warning: it no longer counts.
    assert refused_by_r9(platform, T0 + DAY)
    platform.verify(SUBJECT, LIVENESS, passed=True)
    platform.disburse(SUBJECT, LOAN)


def test_r9_holds_at_the_warning_platform_only(
        rules: Rules, platform: Platform, other_platform: Platform) -> None:
    # Both platforms lend to the subject; the other one's model warns about it.
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    other_platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    warn(other_platform)
    assert other_platform.refused(other_platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesRiskWarning", (SUBJECT, T0))
    assert warning_state(rules, platform) == (0, 0)
    platform.disburse(SUBJECT, LOAN)
    # Checks at this platform do not lift the other platform's warning.
    platform.verify(SUBJECT, LIVENESS, passed=True)
    platform.verify(SUBJECT, SIM_SWAP_CHECK, passed=True)
    assert warning_state(rules, other_platform) == (T0, 0)


def test_a_warning_out_of_bounds_is_refused(rules: Rules, platform: Platform) -> None:
    platform.bind(SUBJECT)
    assert platform.refused(warning(platform, score=4_299)) == (
        "RiskRulesInvalidWarning", (4_299, 4_300, 3))
    assert platform.refused(warning(platform, score=10_001)) == (
        "RiskRulesInvalidWarning", (10_001, 4_300, 3))
    # Python never makes a record with more (it decodes none): a signer that did is refused.
    too_long = warning(platform)
    object.__setattr__(too_long, "top", tuple(range(37)))
    assert platform.refused(too_long) == ("RiskRulesInvalidWarning", (8_100, 4_300, 37))
    # The bounds themselves are accepted.
    platform.submit(warning(platform, score=4_300, top=tuple(range(36))))
    assert warning_state(rules, platform) == (T0, 0)


def test_a_frozen_platform_cannot_warn(rules: Rules, platform: Platform) -> None:
    platform.bind(SUBJECT)
    rules.transact(rules.contract.functions.setPlatformFrozen(platform.address, True),
                   rules.regulator)
    assert platform.refused(warning(platform)) == (
        "RiskRulesPlatformFrozen", (platform.address,))


def test_an_r9_refusal_and_a_refused_warning_are_attested(
        rules: Rules, platform: Platform) -> None:
    from .test_refusal_attestation import attest, calldata, refusal_state

    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    warn(platform)
    refused = platform.sign(platform.disbursement(SUBJECT, LOAN))
    attest(rules, platform, calldata(rules, refused))
    assert refusal_state(rules, platform).count == 1
    # A warning refused under R8 (its platform frozen): its call carries an array, so the
    # record lies at an offset, as a loan creation's does.
    rules.transact(rules.contract.functions.setPlatformFrozen(platform.address, True),
                   rules.regulator)
    frozen = platform.sign(warning(platform))
    attest(rules, platform, calldata(rules, frozen))
    assert refusal_state(rules, platform).count == 2
