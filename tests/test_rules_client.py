"""The rules client (ledger.rules): every custom error has its rule, refusals are provable, and
the chain and the log never part on a subject's hash chain."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from ledger.artifacts import load_artifact
from ledger.chain.client import ChainClient
from ledger.chain.reverts import decode_revert, revert_data
from ledger.core.records import (
    Binding,
    BindingAction,
    Disbursement,
    LoanCreation,
    Record,
    Refusal,
    Verification,
    VerificationMethod,
    factor_mask,
)
from ledger.core.timeline import NO_REFUSALS
from ledger.errors import LedgerStateError
from ledger.rules import (
    REFUSALS,
    RecordConflictError,
    RuleRefusedError,
    SubjectChainsDivergedError,
    rules_for,
)
from ledger.service import Ledger

SUBJECT = keccak(text="subject")
LOAN = keccak(text="loan")
embedded_only = pytest.mark.parametrize("chain", ["embedded"], indirect=True)


def binding(ledger: Ledger, action: BindingAction = BindingAction.BIND) -> Any:
    platform = next(iter(ledger.platforms.values()))

    def build(prev: bytes) -> Record:
        return Binding(platform=platform.address, subject=SUBJECT, prev=prev,
                       timestamp=ledger.now(), action=action, phone=SUBJECT, account=SUBJECT,
                       factors=factor_mask([VerificationMethod.SMS_OTP]))

    return platform, build


def test_every_custom_error_of_the_contract_has_its_rule() -> None:
    abi = load_artifact("BindLedger").abi
    errors = {e["name"] for e in abi if e["type"] == "error"
              and (e["name"].startswith("RiskRules") or e["name"].startswith("AccessControl"))}
    rule_errors = {e for e in errors if e.startswith("RiskRules")}
    assert rule_errors <= set(REFUSALS), sorted(rule_errors - set(REFUSALS))
    assert set(REFUSALS) <= errors, sorted(set(REFUSALS) - errors)


def test_a_refusal_names_the_rule_and_replays_at_its_block(
    ledger_: Ledger, chain: ChainClient
) -> None:
    rules = rules_for(ledger_)
    platform, build = binding(ledger_)
    rules.sign_and_submit(platform, SUBJECT, build)
    rules.sign_and_submit(platform, SUBJECT, lambda prev: LoanCreation(
        platform=platform.address, subject=SUBJECT, prev=prev, timestamp=ledger_.now(),
        loan=LOAN, due_times=(ledger_.now() + 30 * 86_400,), amounts=(5,)))
    head = ledger_.subject_head(platform.address, SUBJECT)
    with pytest.raises(RuleRefusedError) as refused:
        rules.sign_and_submit(platform, SUBJECT, lambda prev: Disbursement(
            platform=platform.address, subject=SUBJECT, prev=prev, timestamp=ledger_.now(),
            loan=LOAN, amount=5))
    error = refused.value
    assert (error.rule, error.error, error.facts) == (
        "R2", "RiskRulesTooFewFactors", {"subject": "0x" + SUBJECT.hex(), "factors": 1,
                                         "required": 2})
    assert str(error).startswith("R2: ")
    # Nothing was stored; the chain's head is the log's.
    assert ledger_.subject_head(platform.address, SUBJECT) == head
    assert rules.subject_state(platform.address, SUBJECT).head == head
    # Anyone holding the evidence replays the refusal with eth_call at its block.
    evidence = error.evidence
    assert evidence is not None and evidence.record is not None
    assert evidence.block_number is not None and evidence.function == "disburse"
    signed = evidence.record
    call = ledger_.contract.contract.functions.disburse(
        tuple(signed.record.to_eip712_message().values()), signed.signature)
    with pytest.raises(Exception) as replay:  # each provider raises its own type
        call.call(block_identifier=evidence.block_number)
    data = revert_data(replay.value)
    assert data == evidence.revert_data
    assert decode_revert(ledger_.contract.artifact.abi, data)[0] == "RiskRulesTooFewFactors"


def verification(ledger: Ledger) -> Any:
    platform = next(iter(ledger.platforms.values()))
    return lambda prev: Verification(platform=platform.address, subject=SUBJECT, prev=prev,
                                     timestamp=ledger.now(), method=VerificationMethod.LIVENESS,
                                     passed=True, phone=SUBJECT)


def test_records_written_to_the_log_only_reach_the_contract_before_the_next_rule_record(
    ledger_: Ledger,
) -> None:
    rules = rules_for(ledger_)
    platform, build = binding(ledger_)
    ledger_.sign_and_submit(platform, SUBJECT, build)  # the log only: the chain has nothing
    ledger_.sign_and_submit(platform, SUBJECT, verification(ledger_))
    assert rules.subject_state(platform.address, SUBJECT).head == bytes(32)
    rules.sign_and_submit(platform, SUBJECT, verification(ledger_))
    state = rules.subject_state(platform.address, SUBJECT)
    assert state.head == ledger_.subject_head(platform.address, SUBJECT)
    assert state.bound  # the contract judged with the binding it learnt first


@embedded_only
def test_a_log_only_record_the_contract_refuses_parts_the_chains_for_good(
    ledger_: Ledger,
) -> None:
    rules = rules_for(ledger_)
    platform, build = binding(ledger_)
    first = ledger_.sign_and_submit(platform, SUBJECT, build)
    second = ledger_.sign_and_submit(platform, SUBJECT, build)  # bound twice: refused on chain
    with pytest.raises(SubjectChainsDivergedError) as diverged:
        rules.sign_and_submit(platform, SUBJECT, verification(ledger_))
    assert diverged.value.chain_head == first.row.record_hash
    assert diverged.value.log_head == second.row.record_hash
    assert f"the contract refused record {second.row.id}, written to the log only" in str(
        diverged.value)
    assert "RiskRulesAlreadyBound" in str(diverged.value)
    # The first binding reached the contract, the second did not.
    assert rules.subject_state(platform.address, SUBJECT).head == first.row.record_hash


@embedded_only
def test_a_record_the_store_lost_is_stored_before_the_next(
    ledger_: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = rules_for(ledger_)
    platform, build = binding(ledger_)
    real_submit = ledger_.submit

    def failing(signed: Any, **_: Any) -> Any:
        raise LedgerStateError("the store is down")

    monkeypatch.setattr(ledger_, "submit", failing)
    with pytest.raises(LedgerStateError):
        rules.sign_and_submit(platform, SUBJECT, build)
    on_chain = rules.subject_state(platform.address, SUBJECT).head
    assert on_chain != bytes(32) and ledger_.subject_head(platform.address, SUBJECT) == bytes(32)

    monkeypatch.setattr(ledger_, "submit", real_submit)
    _, rebind = binding(ledger_, BindingAction.REBIND)
    done = rules.sign_and_submit(platform, SUBJECT, rebind)
    rows = ledger_.store.records_of_subject(platform.address, SUBJECT)
    assert [r.record_hash for r in rows] == [on_chain, done.accepted.row.record_hash]
    assert rules.subject_state(platform.address, SUBJECT).head == done.accepted.row.record_hash
    # A conflict is raised as such, not as divergence, when the heads agree.
    _, bind_again = binding(ledger_)
    with pytest.raises(RecordConflictError) as conflict:
        rules.sign_and_submit(platform, SUBJECT, bind_again)
    assert conflict.value.error == "RiskRulesAlreadyBound"


def test_a_refusal_attested_but_not_logged_is_logged_before_the_next_record(
    ledger_: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract attested the refusal, so the log must hold it: a store that failed to
    keep it gets it again, in its place, before the subject's next record."""
    rules = rules_for(ledger_)
    platform, build = binding(ledger_)
    rules.sign_and_submit(platform, SUBJECT, build)
    rules.sign_and_submit(platform, SUBJECT, lambda prev: LoanCreation(
        platform=platform.address, subject=SUBJECT, prev=prev, timestamp=ledger_.now(),
        loan=LOAN, due_times=(ledger_.now() + 30 * 86_400,), amounts=(5,)))
    judged_on = ledger_.subject_head(platform.address, SUBJECT)
    real_write = ledger_.write_beside_chain

    def failing(platform: Any, record: Any) -> Any:
        raise LedgerStateError("the store is down")

    monkeypatch.setattr(ledger_, "write_beside_chain", failing)
    with pytest.raises(RuleRefusedError) as refused:
        rules.sign_and_submit(platform, SUBJECT, lambda prev: Disbursement(
            platform=platform.address, subject=SUBJECT, prev=prev, timestamp=ledger_.now(),
            loan=LOAN, amount=5))
    assert refused.value.recorded is None
    attested = rules.refusal_state(platform.address, SUBJECT)
    assert attested.count == 1
    assert [r.record_type for r in ledger_.store.records_of_subject(
        platform.address, SUBJECT)] == ["Binding", "LoanCreation"]

    monkeypatch.setattr(ledger_, "write_beside_chain", real_write)
    _, rebind = binding(ledger_, BindingAction.REBIND)
    rules.sign_and_submit(platform, SUBJECT, rebind)
    rows = ledger_.store.records_of_subject(platform.address, SUBJECT)
    assert [r.record_type for r in rows] == ["Binding", "LoanCreation", "Refusal", "Binding"]
    refusal = ledger_.read(rows[2]).record.record
    assert isinstance(refusal, Refusal) and refusal.prev == judged_on
    assert NO_REFUSALS.extend(refusal.call, refusal.revert) == attested
