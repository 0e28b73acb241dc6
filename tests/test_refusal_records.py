"""Refusals in the log: a record a rule refused is logged beside the subject's chain, shows in
the subject's and the loan's timeline, and is checked by replaying the refused call."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from eth_utils.crypto import keccak

from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    Disbursement,
    LoanCreation,
    Refusal,
    Repayment,
    SignedRecord,
)
from ledger.core.timeline import NO_REFUSALS, Timeline, refusal_chain
from ledger.core.verdict import CheckName, Outcome
from ledger.rules import RuleRefusedError
from ledger.service import Ledger, ReservedRecordTypeError
from ledger.timeline import (
    UnknownLoanTimelineError,
    export_loan_timeline,
    export_timeline,
    verify_timeline,
)
from ledger.verify import verify_bundle
from tests.support.loan_story import LOAN, SUBJECT, Story, tell_story

embedded_only = pytest.mark.parametrize("chain", ["embedded"], indirect=True)


@pytest.fixture
def story(ledger_: Ledger) -> Story:
    return tell_story(ledger_)


def test_a_rule_refusal_is_logged_beside_the_chain(story: Story) -> None:
    refused = story.refused
    assert (refused.rule, refused.error) == ("R3", "RiskRulesNoConsent")
    recorded = refused.recorded
    assert recorded is not None and refused.to_json()["recorded"]["id"] == recorded.row.id
    refusal = recorded.record.record
    assert isinstance(refusal, Refusal)
    assert refused.evidence is not None and refused.evidence.record is not None
    assert refusal.refused == refused.evidence.record.record.digest(story.ledger.domain)
    assert (refusal.rule, refusal.revert, refusal.block) == (
        3, refused.evidence.revert_data, refused.evidence.block_number)
    # The block is the attestation's, and the revert the one the contract attested.
    state = story.rules.refusal_state(refusal.platform, refusal.subject)
    assert state == NO_REFUSALS.extend(refusal.call, refusal.revert)
    # The refusal names the head it was judged on, and the next record still follows that head.
    consent = story.ledger.record(recorded.row.id + 1).record.record
    assert isinstance(consent, Consent)
    assert consent.prev == refusal.prev


def test_the_subjects_timeline_shows_the_refusal_and_verifies(story: Story) -> None:
    platform = next(iter(story.ledger.platforms))
    timeline = Timeline.loads(export_timeline(story.ledger, platform, SUBJECT).dumps())
    types = [e.record.record.TYPE_NAME for e in timeline.entries]
    assert types == ["Binding", "LoanCreation", "Refusal", "Consent", "Disbursement",
                     "Repayment"]
    verdict = verify_timeline(timeline, story.ledger.chain)
    assert verdict.verified, verdict.reason()
    assert "and 1 refusal beside the chain, the one the contract attested" in (
        verdict.completeness.detail)
    refusal_checks = {c.name: c for c in verdict.entries[2][2].checks}
    replay = refusal_checks[CheckName.REFUSAL]
    assert replay.outcome is Outcome.PASSED
    assert "Disbursement refused under R3" in replay.detail
    assert "the contract refuses it again with RiskRulesNoConsent" in replay.detail


def test_a_timeline_with_its_refusal_dropped_fails_completeness(story: Story) -> None:
    platform = next(iter(story.ledger.platforms))
    timeline = export_timeline(story.ledger, platform, SUBJECT)
    dropped = replace(timeline, entries=[
        e for e in timeline.entries if not isinstance(e.record.record, Refusal)])
    verdict = verify_timeline(dropped, story.ledger.chain)
    assert not verdict.verified
    completeness = verdict.completeness
    assert completeness.outcome is Outcome.FAILED
    assert completeness.detail == (
        "the contract attested 1 refusal of this subject, the timeline holds 0: "
        "1 refusal is missing")
    attested = refusal_chain(timeline)
    assert completeness.expected == f"1 refusal, head 0x{attested.head.hex()}"
    assert completeness.actual == f"0 refusals, head 0x{'00' * 32}"
    # Every entry left is still genuine: only the timeline as a whole fails.
    assert all(v.verified for _, _, v in verdict.entries)


def test_a_disbursement_refused_during_cooling_is_attested_and_must_be_in_the_timeline(
    story: Story,
) -> None:
    """R4: a rebind cools the subject; the disbursement of a new loan is refused, attested
    on chain and logged; the timeline verifies with it and fails without it."""
    ledger, rules = story.ledger, story.rules
    platform = next(iter(ledger.platforms.values()))
    now = ledger.now()
    base = {"platform": platform.address, "subject": SUBJECT, "timestamp": now}
    rules.sign_and_submit(platform, SUBJECT, lambda prev: Binding(
        **base, prev=prev, action=BindingAction.REBIND, phone=keccak(text="new number"),
        account=SUBJECT, factors=3))
    loan = keccak(text="second loan")
    rules.sign_and_submit(platform, SUBJECT, lambda prev: LoanCreation(
        **base, prev=prev, loan=loan, due_times=(now + 30 * 86400,), amounts=(700,)))
    with pytest.raises(RuleRefusedError) as refused:
        rules.sign_and_submit(platform, SUBJECT, lambda prev: Disbursement(
            **base, prev=prev, loan=loan, amount=700))
    assert (refused.value.rule, refused.value.error) == ("R4", "RiskRulesCoolingPeriod")
    recorded = refused.value.recorded
    assert recorded is not None
    ledger.seal_and_anchor()

    timeline = export_timeline(ledger, platform.address, SUBJECT)
    refusals = [e for e in timeline.entries if isinstance(e.record.record, Refusal)]
    assert [e.record_hash for e in refusals][-1] == recorded.row.record_hash
    assert rules.refusal_state(platform.address, SUBJECT) == refusal_chain(timeline)
    assert refusal_chain(timeline).count == 2  # the story's R3 refusal, then this one
    verdict = verify_timeline(timeline, ledger.chain)
    assert verdict.verified, verdict.reason()
    assert "and 2 refusals beside the chain, all the contract attested" in (
        verdict.completeness.detail)

    dropped = replace(timeline, entries=[
        e for e in timeline.entries if e.record_hash != recorded.row.record_hash])
    check = verify_timeline(dropped, ledger.chain).completeness
    assert check.outcome is Outcome.FAILED
    assert check.detail == ("the contract attested 2 refusals of this subject, the timeline "
                            "holds 1: 1 refusal is missing")


def test_a_loans_timeline_checks_the_loan_against_the_contract(story: Story) -> None:
    platform = next(iter(story.ledger.platforms))
    timeline = export_loan_timeline(story.ledger, story.loan_id, platform)
    assert timeline.loan == LOAN and Timeline.loads(timeline.dumps()) == timeline
    verdict = verify_timeline(timeline, story.ledger.chain)
    assert verdict.verified, verdict.reason()
    assert verdict.loan is not None and verdict.loan.outcome is Outcome.PASSED
    assert "its 1 repayments, 500 in all, are what the contract holds" in verdict.loan.detail
    assert verdict.to_json()["loan"]["check"] == "loan"


def test_a_loan_timeline_without_a_repayment_is_named(story: Story) -> None:
    timeline = export_loan_timeline(story.ledger, story.loan_id)
    cut = replace(timeline, entries=timeline.entries[:-1])
    verdict = verify_timeline(cut, story.ledger.chain)
    assert not verdict.verified
    assert verdict.loan is not None and verdict.loan.outcome is Outcome.FAILED
    assert (verdict.loan.expected, verdict.loan.actual) == ("500", "0")


@embedded_only
def test_an_unknown_loan_has_no_timeline(story: Story) -> None:
    platform = next(iter(story.ledger.platforms))
    with pytest.raises(UnknownLoanTimelineError, match=f"platform {platform} holds no loan"):
        export_loan_timeline(story.ledger, keccak(text="no such loan"), platform)
    refusal_hash = story.refused.recorded.row.record_hash  # type: ignore[union-attr]
    with pytest.raises(UnknownLoanTimelineError, match="this ledger holds no loan"):
        export_loan_timeline(story.ledger, refusal_hash)


@embedded_only
def test_a_refusal_the_contract_would_not_make_fails_its_replay(story: Story) -> None:
    """A platform that logs a refusal of a record the contract accepts is caught: the replay
    at the named block succeeds instead of reverting."""
    ledger = story.ledger
    platform = next(iter(ledger.platforms.values()))
    head = ledger.subject_head(platform.address, SUBJECT)
    repay = Repayment(platform=platform.address, subject=SUBJECT, prev=head,
                      timestamp=ledger.now(), loan=LOAN, amount=100)
    accepted_call = story.rules.check(platform, SUBJECT, lambda prev: repay)
    creation = story.rules.loan_creation_of(platform.address, SUBJECT, LOAN)
    calldata = ledger.contract.contract.encode_abi("repay", [
        tuple(repay.to_eip712_message().values()), accepted_call.signature,
        list(creation.due_times), list(creation.amounts)])
    assert story.refused.recorded is not None
    genuine = story.refused.recorded.record.record
    assert isinstance(genuine, Refusal)
    forged = replace(genuine, prev=head, refused=repay.digest(ledger.domain),
                     call=bytes.fromhex(calldata[2:]), block=ledger.chain.web3.eth.block_number)
    logged = ledger.write_beside_chain(platform, forged)
    ledger.seal_and_anchor()
    verdict = verify_bundle(ledger.proof_bundle(logged.row.id), ledger.chain)
    assert not verdict.verified
    failure = verdict.first_failure
    assert failure is not None and failure.name is CheckName.REFUSAL
    assert "the contract accepts the call" in failure.detail


@embedded_only
def test_a_refusal_naming_another_record_than_its_call_fails(story: Story) -> None:
    ledger = story.ledger
    platform = next(iter(ledger.platforms.values()))
    genuine = story.refused.recorded.record.record  # type: ignore[union-attr]
    assert isinstance(genuine, Refusal)
    forged = replace(genuine, prev=ledger.subject_head(platform.address, SUBJECT),
                     refused=keccak(text="another record"))
    logged = ledger.write_beside_chain(platform, forged)
    ledger.seal_and_anchor()
    failure = verify_bundle(ledger.proof_bundle(logged.row.id), ledger.chain).first_failure
    assert failure is not None and failure.name is CheckName.REFUSAL
    assert failure.detail == "the call carries another record than the one the refusal names"


@embedded_only
def test_a_refusal_out_of_its_place_breaks_the_timeline(story: Story) -> None:
    platform = next(iter(story.ledger.platforms))
    timeline = export_timeline(story.ledger, platform, SUBJECT)
    entries = list(timeline.entries)
    entries.insert(1, entries.pop(2))  # the refusal moved before the loan it refused
    verdict = verify_timeline(replace(timeline, entries=entries), story.ledger.chain)
    assert verdict.completeness.outcome is Outcome.FAILED
    assert verdict.completeness.detail.startswith("entry 1 does not follow entry 0")


@embedded_only
def test_a_platform_cannot_submit_a_refusal(story: Story) -> None:
    recorded = story.refused.recorded
    assert recorded is not None
    signed = SignedRecord.from_json(json.loads(json.dumps(recorded.record.to_json())))
    with pytest.raises(ReservedRecordTypeError, match="written by BindLedger"):
        story.ledger.submit(signed)
