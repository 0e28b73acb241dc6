"""attestRefusal: the contract attests that it refuses a record under a rule, and keeps a hash
chain of the refusals of each (platform, subject), so that no refusal can be left out of a
subject's timeline unseen.

Run on eth-tester and on anvil, through BindLedgerHarness (the rules' tests' fixtures). The
platform sends its attestations itself, as a signed raw transaction.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.types import TxReceipt

from ledger.artifacts import load_artifact
from ledger.core.records import (
    ZERO_HASH,
    BindingAction,
    Dispute,
    DisputeAction,
    LoanCreation,
    SignedRecord,
)
from ledger.core.timeline import NO_REFUSALS, RefusalChain
from ledger.rules import REFUSALS
from tests.helpers.reverts import decode_revert, expect_revert
from tests.spec.independent import rule_errors

from . import test_risk_rules as spec
from .test_risk_rules import (
    COOLING,
    CREATED,
    DISBURSED,
    LOAN,
    LOAN_2,
    SUBJECT,
    T0,
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

ATTEST_GAS = 400_000


def calldata(rules: Rules, signed: SignedRecord, *extra: Any) -> bytes:
    """The calldata of the rule call that relays `signed`: what a Refusal record carries."""
    return bytes(HexBytes(rules.call(signed, *extra)._encode_transaction_data()))


def fund(rules: Rules, address: str) -> None:
    """Give `address` ether to send (and, on eth-tester, to call) with."""
    if rules.w3.eth.get_balance(address) == 0:
        funding = rules.w3.eth.send_transaction(
            {"from": rules.admin, "to": address, "value": 10**18})
        rules.w3.eth.wait_for_transaction_receipt(funding)


def send_as(rules: Rules, account: LocalAccount, call: Any) -> TxReceipt | None:
    """Send `call` from `account` as a signed raw transaction; the receipt, or None when the
    node refused to mine a reverting transaction (eth-tester does; anvil mines it, status 0)."""
    w3 = rules.w3
    fund(rules, account.address)
    tx = call.build_transaction({
        "from": account.address, "gas": ATTEST_GAS,
        "nonce": w3.eth.get_transaction_count(account.address),
    })
    signed = account.sign_transaction(tx)
    try:
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    except Exception:  # noqa: BLE001 - eth-tester refuses a reverting transaction outright
        return None
    return w3.eth.wait_for_transaction_receipt(tx_hash)


def attest(rules: Rules, platform: Platform, data: bytes) -> TxReceipt:
    receipt = send_as(rules, platform.account, rules.contract.functions.attestRefusal(data))
    assert receipt is not None and receipt["status"] == 1
    return receipt


def refusal_state(rules: Rules, platform: Platform, subject: bytes = SUBJECT) -> RefusalChain:
    head, count = rules.contract.functions.refusalState(platform.address, subject).call()
    return RefusalChain(bytes(head), int(count))


def attest_refused(rules: Rules, sender: str, data: bytes) -> tuple[str, tuple[Any, ...]]:
    """attestRefusal(data), called by `sender`, must revert: its decoded error."""
    call = rules.contract.functions.attestRefusal(data)
    return expect_revert(rules.contract.abi, lambda: call.call({"from": sender}))


def cooling(rules: Rules, platform: Platform) -> int:
    """The subject ready for a disbursement, then rebound: cooling (R4) until the time returned."""
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.bind(SUBJECT, action=BindingAction.REBIND, phone="phone-2")
    return rules.now + COOLING


def test_a_disbursement_refused_during_cooling_is_attested_and_chained(
    rules: Rules, platform: Platform
) -> None:
    ends = cooling(rules, platform)
    head = rules.subject(platform, SUBJECT)["head"]
    refused = platform.sign(platform.disbursement(SUBJECT, LOAN))
    data = calldata(rules, refused)
    name, args = platform.refused(refused.record, signed=refused)
    assert (name, args) == ("RiskRulesCoolingPeriod", (SUBJECT, ends))

    receipt = attest(rules, platform, data)

    (event,) = rules.events(receipt, "RefusalAttested")
    revert = bytes(event["revertData"])
    assert decode_revert(rules.contract.abi, revert) == ("RiskRulesCoolingPeriod", (SUBJECT, ends))
    first = NO_REFUSALS.extend(data, revert)
    assert first.head == keccak(ZERO_HASH + keccak(data) + keccak(revert))
    assert event == {"platform": platform.address, "subject": SUBJECT, "count": 1,
                     "head": first.head, "revertData": revert}
    assert refusal_state(rules, platform) == first
    # Nothing of the refused record was applied: the loan is not disbursed, the head stands.
    assert rules.loan(SUBJECT, LOAN)["phase"] == CREATED
    assert rules.subject(platform, SUBJECT)["head"] == head

    # A second refusal (the same disbursement an hour later) extends the chain.
    rules.advance(3600)
    again = platform.sign(platform.disbursement(SUBJECT, LOAN))
    second_data = calldata(rules, again)
    attest(rules, platform, second_data)
    assert refusal_state(rules, platform) == first.extend(second_data, revert)
    assert refusal_state(rules, platform).count == 2

    # Cooling over, the disbursement goes through; the refusals stay attested.
    rules.set_time(ends)
    platform.disburse(SUBJECT, LOAN)
    assert rules.loan(SUBJECT, LOAN)["phase"] == DISBURSED
    assert refusal_state(rules, platform).count == 2


def test_a_call_the_contract_accepts_is_not_attested_and_changes_nothing(
    rules: Rules, platform: Platform
) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    head = rules.subject(platform, SUBJECT)["head"]
    data = calldata(rules, platform.sign(platform.disbursement(SUBJECT, LOAN)))

    assert attest_refused(rules, platform.address, data) == ("RiskRulesCallNotRefused", ())
    receipt = send_as(rules, platform.account, rules.contract.functions.attestRefusal(data))
    assert receipt is None or receipt["status"] == 0

    assert rules.loan(SUBJECT, LOAN)["phase"] == CREATED
    assert rules.subject(platform, SUBJECT)["head"] == head
    assert refusal_state(rules, platform) == NO_REFUSALS


def test_a_revert_that_is_no_rule_is_not_attested(rules: Rules, platform: Platform) -> None:
    cooling(rules, platform)
    record = platform.disbursement(SUBJECT, LOAN)
    # A bad signature: refused, but by no rule (anyone can make such a call).
    data = calldata(rules, SignedRecord(record, b"\x01" * 65))
    name, (revert,) = attest_refused(rules, platform.address, data)
    assert name == "RiskRulesNotARuleRefusal"
    assert decode_revert(rules.contract.abi, revert)[0] == "RiskRulesWrongSigner"
    # A broken hash chain: a conflict with the contract's state, no rule.
    stale = platform.sign(platform.make(type(record), SUBJECT, prev=ZERO_HASH, loan=LOAN,
                                        amount=record.amount))  # type: ignore[attr-defined]
    name, (revert,) = attest_refused(rules, platform.address, calldata(rules, stale))
    assert name == "RiskRulesNotARuleRefusal"
    assert decode_revert(rules.contract.abi, revert)[0] == "RiskRulesBrokenChain"
    assert refusal_state(rules, platform) == NO_REFUSALS


def test_a_call_of_no_record_function_is_not_attested(rules: Rules, platform: Platform) -> None:
    functions = rules.contract.functions
    # Calls that revert (a parameter out of bounds, a write-off by no regulator), one that is
    # attestRefusal itself, and calldata too short to hold a selector.
    calls = [
        functions.setParameter(0, 0)._encode_transaction_data(),
        functions.writeOffLoan(platform.address, SUBJECT, LOAN)._encode_transaction_data(),
        functions.attestRefusal(b"")._encode_transaction_data(),
    ]
    for call in calls:
        data = bytes(HexBytes(call))
        assert attest_refused(rules, platform.address, data) == (
            "RiskRulesNotARuleCall", (data[:4],))
    assert attest_refused(rules, platform.address, b"\x12") == (
        "RiskRulesNotARuleCall", (b"\x12\x00\x00\x00",))
    assert refusal_state(rules, platform) == NO_REFUSALS


def test_only_the_records_platform_attests_its_refusal(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    cooling(rules, platform)
    data = calldata(rules, platform.sign(platform.disbursement(SUBJECT, LOAN)))
    for sender in (other_platform.address, rules.relayer, rules.regulator):
        fund(rules, sender)
        assert attest_refused(rules, sender, data) == (
            "RiskRulesNotRecordPlatform", (sender, platform.address))
    assert refusal_state(rules, platform) == NO_REFUSALS


def test_a_frozen_platforms_refused_loan_creation_is_attested_for_its_subject(
    rules: Rules, platform: Platform
) -> None:
    # createLoan takes its record (with arrays) at an offset: the subject is read from there.
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    rules.transact(rules.contract.functions.setPlatformFrozen(platform.address, True),
                   rules.regulator)
    schedule = Schedule.monthly(T0, count=4)
    creation = platform.sign(platform.make(LoanCreation, SUBJECT, loan=LOAN_2,
                                           due_times=schedule.due_times,
                                           amounts=schedule.amounts))
    dispute = platform.sign(platform.make(Dispute, SUBJECT, loan=LOAN, action=DisputeAction.OPEN))
    built = NO_REFUSALS
    for refused in (creation, dispute):
        data = calldata(rules, refused)
        (event,) = rules.events(attest(rules, platform, data), "RefusalAttested")
        assert decode_revert(rules.contract.abi, bytes(event["revertData"])) == (
            "RiskRulesPlatformFrozen", (platform.address,))
        built = built.extend(data, bytes(event["revertData"]))
        assert (event["subject"], event["count"], event["head"]) == (
            SUBJECT, built.count, built.head)
    assert refusal_state(rules, platform) == built
    assert refusal_state(rules, platform, ref("another-subject")) == NO_REFUSALS


def test_the_specs_rule_errors_are_the_contracts_own() -> None:
    """verification.md lists, per rule, the errors attestRefusal attests: each is an error of
    the contract with exactly that signature, and every R1-R8 error of ledger.rules is listed,
    but for governance's RiskRulesInvalidParameter, which no record call raises."""
    abi = load_artifact("BindLedger").abi
    signatures = {f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
                  for e in abi if e["type"] == "error"}
    listed = [sig for errors in rule_errors().values() for sig in errors]
    assert set(listed) <= signatures, sorted(set(listed) - signatures)
    named = {sig.split("(")[0] for sig in listed}
    assert named == {name for name, (rule, _) in REFUSALS.items()
                     if rule is not None} - {"RiskRulesInvalidParameter"}
