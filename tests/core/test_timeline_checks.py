"""Timeline documents and the checks that need no chain: completeness of a subject's hash
chain and the loan's repayments, each failure with the exact words and values a regulator is
shown.

Entries here are built directly (signatures are the offline checks' business, tested in
test_bundle_checks.py): what these checks read is each record's subject, platform and `prev`,
whether it extends the chain, its hash and its leaf index.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eth_utils.crypto import keccak

from ledger.core.bundle import BundleDecodeError, FieldValueError, MissingFieldError, ProofBundle
from ledger.core.encoding import to_hex
from ledger.core.records import (
    ZERO_HASH,
    Binding,
    BindingAction,
    Evidence,
    LoanCreation,
    Record,
    Refusal,
    Repayment,
    SignedRecord,
)
from ledger.core.timeline import (
    MAX_TIMELINE_BYTES,
    MAX_TIMELINE_ENTRIES,
    NO_REFUSALS,
    LoanOnChain,
    RefusalChain,
    Timeline,
    TimelineDecodeError,
    check_completeness,
    check_loan,
    refusal_chain,
)
from ledger.core.verdict import Check, CheckName, Outcome
from tests.core.test_bundle_checks import DOMAIN, OTHER_PLATFORM, PLATFORM, valid_bundle

SUBJECT = b"\x51" * 32
OTHER_SUBJECT = b"\x52" * 32
LOAN = b"\x1a" * 32
COMPLETENESS, LOAN_CHECK = CheckName.COMPLETENESS, CheckName.LOAN


def binding(prev: bytes, timestamp: int = 1, **members: Any) -> Binding:
    return Binding(**{"platform": PLATFORM, "subject": SUBJECT, "prev": prev,
                      "timestamp": timestamp, "action": BindingAction.BIND,
                      "phone": b"\x02" * 32, "account": b"\x03" * 32, "factors": 1, **members})


def refusal(prev: bytes, call: bytes = b"") -> Refusal:
    return Refusal(platform=PLATFORM, subject=SUBJECT, prev=prev, timestamp=9,
                   refused=b"\x04" * 32, rule=1, call=call, revert=b"\x0e" + call, block=0)


def entry(record: Record, leaf: int) -> ProofBundle:
    base = valid_bundle()
    return dataclasses.replace(base, record=SignedRecord(record, base.record.signature),
                               record_hash=record.digest(DOMAIN), leaf_index=leaf)


def chain(count: int, first_leaf: int = 0) -> list[ProofBundle]:
    """`count` records of SUBJECT, each following the one before, at every other leaf."""
    entries: list[ProofBundle] = []
    prev = ZERO_HASH
    for i in range(count):
        entries.append(entry(binding(prev, timestamp=i + 1), first_leaf + 2 * i))
        prev = entries[-1].record_hash
    return entries


def timeline(entries: list[ProofBundle], loan: bytes | None = None) -> Timeline:
    return Timeline(PLATFORM, SUBJECT, entries[-1].record_hash if entries else ZERO_HASH,
                    entries, loan)


def failure(name: CheckName, detail: str, expected: str | None = None,
            actual: str | None = None) -> Check:
    return Check(name, Outcome.FAILED, detail, expected, actual)


def hex_of(e: ProofBundle) -> str:
    return to_hex(e.record_hash)


# -- completeness ------------------------------------------------------------------------------

def test_an_unbroken_chain_up_to_the_head_on_chain_is_complete() -> None:
    entries = chain(3)
    assert check_completeness(timeline(entries), entries[-1].record_hash) == Check(
        COMPLETENESS, Outcome.PASSED,
        f"3 records chained from the first to {hex_of(entries[-1])}; the contract's head of the "
        f"subject, {hex_of(entries[-1])}, is among them")


def test_records_written_after_the_head_on_chain_may_follow_it() -> None:
    entries = chain(3)
    assert check_completeness(timeline(entries), entries[0].record_hash).outcome is (
        Outcome.PASSED)


def test_a_subject_the_contract_holds_nothing_of_is_said_so() -> None:
    entries = chain(1)
    assert check_completeness(timeline(entries), ZERO_HASH) == Check(
        COMPLETENESS, Outcome.PASSED,
        f"1 records chained from the first to {hex_of(entries[0])}; no record of the subject "
        "is held by the contract yet")


@pytest.mark.parametrize(("refusals", "words"), [(1, "1 refusal"), (2, "2 refusals")])
def test_refusals_sit_beside_the_chain_and_are_counted(refusals: int, words: str) -> None:
    first, second = chain(2)
    # Each refusal was judged on the head at its time (the first record); the second record
    # still follows the first.
    beside = [entry(refusal(first.record_hash), 1 + 2 * i) for i in range(refusals)]
    second = dataclasses.replace(second, leaf_index=10)
    entries = [first, *beside, second]
    attested = refusal_chain(timeline(entries))
    assert attested.count == refusals
    all_ = "all" if refusals > 1 else "the one"
    assert check_completeness(timeline(entries), second.record_hash, attested) == Check(
        COMPLETENESS, Outcome.PASSED,
        f"2 records chained from the first to {hex_of(second)} (and {words} beside the chain, "
        f"{all_} the contract attested); the contract's head of the subject, {hex_of(second)}, "
        "is among them")


def test_the_refusal_chain_is_the_contracts_hash_of_calls_and_reverts() -> None:
    # attestRefusal: head = keccak256(abi.encode(head, keccak256(call), keccak256(revert))).
    one = NO_REFUSALS.extend(b"\x01\x02", b"\x03")
    assert one == RefusalChain(keccak(ZERO_HASH + keccak(b"\x01\x02") + keccak(b"\x03")), 1)
    assert one.extend(b"", b"").head == keccak(one.head + keccak(b"") + keccak(b""))


def refused_twice() -> tuple[list[ProofBundle], RefusalChain]:
    """A record, two refusals judged on it, a record after them; and the refusal chain the
    contract holds of them."""
    first, second = chain(2)
    beside = [entry(refusal(first.record_hash, call=bytes([i])), 1 + 2 * i) for i in (1, 2)]
    entries = [first, *beside, dataclasses.replace(second, leaf_index=10)]
    return entries, refusal_chain(timeline(entries))


def test_a_refusal_left_out_of_the_timeline_is_missing() -> None:
    entries, attested = refused_twice()
    for left_out in (1, 2):
        rest = entries[:left_out] + entries[left_out + 1:]
        kept = refusal_chain(timeline(rest))
        assert check_completeness(timeline(rest), entries[-1].record_hash, attested) == failure(
            COMPLETENESS, "the contract attested 2 refusals of this subject, the timeline holds "
            "1: 1 refusal is missing",
            expected=f"2 refusals, head {to_hex(attested.head)}",
            actual=f"1 refusal, head {to_hex(kept.head)}")


def test_every_refusal_left_out_is_counted() -> None:
    entries, attested = refused_twice()
    bare = [entries[0], entries[3]]
    assert check_completeness(timeline(bare), entries[-1].record_hash, attested) == failure(
        COMPLETENESS, "the contract attested 2 refusals of this subject, the timeline holds "
        "0: 2 refusals are missing",
        expected=f"2 refusals, head {to_hex(attested.head)}",
        actual=f"0 refusals, head {to_hex(NO_REFUSALS.head)}")


def test_refusals_the_contract_never_attested_are_named() -> None:
    entries, _ = refused_twice()
    check = check_completeness(timeline(entries), entries[-1].record_hash,
                               RefusalChain(NO_REFUSALS.extend(b"\x01", b"\x0e\x01").head, 1))
    assert check.outcome is Outcome.FAILED
    assert check.detail == ("the timeline holds 2 refusals, the contract attested 1: a refusal "
                            "in it was never attested")
    # A timeline with refusals of a subject the contract attested none of fails alike.
    assert check_completeness(timeline(entries), entries[-1].record_hash).outcome is (
        Outcome.FAILED)


def test_refusals_swapped_or_altered_do_not_rebuild_the_chain() -> None:
    entries, attested = refused_twice()
    swapped = [entries[0], dataclasses.replace(entries[2], leaf_index=1),
               dataclasses.replace(entries[1], leaf_index=3), entries[3]]
    check = check_completeness(timeline(swapped), entries[-1].record_hash, attested)
    assert check.outcome is Outcome.FAILED
    assert check.detail == ("the timeline's 2 refusals do not rebuild the contract's refusal "
                            "chain: a refusal is missing, altered or reordered")
    assert check.expected == f"2 refusals, head {to_hex(attested.head)}"


def test_a_head_on_chain_that_is_a_refusals_hash_is_not_in_the_chain() -> None:
    first = chain(1)[0]
    beside = entry(refusal(first.record_hash), 1)
    assert check_completeness(timeline([first, beside]), beside.record_hash) == failure(
        COMPLETENESS, "the chain holds a later record of this subject than the timeline shows: "
        "records are missing at the end",
        expected=hex_of(beside), actual=hex_of(first))


def test_an_empty_timeline_is_incomplete() -> None:
    assert check_completeness(timeline([]), ZERO_HASH) == failure(
        COMPLETENESS, "the timeline has no records")


@pytest.mark.parametrize("member", ["subject", "platform"])
def test_an_entry_of_another_subject_or_platform_is_named_with_both(member: str) -> None:
    entries = chain(2)
    stranger = dataclasses.replace(entries[1].record.record, **{
        "subject": OTHER_SUBJECT} if member == "subject" else {"platform": OTHER_PLATFORM})
    entries[1] = entry(stranger, entries[1].leaf_index)
    assert check_completeness(timeline(entries), ZERO_HASH) == failure(
        COMPLETENESS, "entry 1 belongs to another subject or platform",
        expected=f"{PLATFORM} {to_hex(SUBJECT)}",
        actual=f"{stranger.platform} {to_hex(stranger.subject)}")


def test_a_first_record_that_does_not_start_the_chain_shows_its_prev() -> None:
    entries = chain(3)[1:]  # the subject's first record is missing
    assert check_completeness(timeline(entries), ZERO_HASH) == failure(
        COMPLETENESS, "the first record must start the chain",
        expected=to_hex(ZERO_HASH), actual=to_hex(entries[0].record.record.prev))


def test_a_record_missing_in_the_middle_names_the_entries_around_it() -> None:
    full = chain(4)
    entries = [full[0], full[1], full[3]]
    assert check_completeness(timeline(entries), ZERO_HASH) == failure(
        COMPLETENESS, "entry 2 does not follow entry 1: a record is missing, reordered or "
        "altered between them", expected=hex_of(full[1]), actual=hex_of(full[2]))


def test_after_a_refusal_the_next_record_is_judged_against_the_last_chained_entry() -> None:
    first, second, third = chain(3)
    beside = entry(refusal(first.record_hash), 1)
    entries = [first, beside, dataclasses.replace(third, leaf_index=10)]  # second is missing
    assert check_completeness(timeline(entries), ZERO_HASH) == failure(
        COMPLETENESS, "entry 2 does not follow entry 0: a record is missing, reordered or "
        "altered between them", expected=hex_of(first), actual=hex_of(second))


@pytest.mark.parametrize("leaf", [0, 2], ids=["before", "same"])
def test_an_entry_not_after_the_one_before_in_the_log_shows_both_indexes(leaf: int) -> None:
    entries = chain(2, first_leaf=2)
    entries[1] = dataclasses.replace(entries[1], leaf_index=leaf)
    assert check_completeness(timeline(entries), ZERO_HASH) == failure(
        COMPLETENESS, "entry 1 is not after entry 0 in the log",
        expected="leaf index > 2", actual=str(leaf))


def test_a_first_entry_at_leaf_zero_is_in_order() -> None:
    entries = chain(1, first_leaf=0)
    assert entries[0].leaf_index == 0
    assert check_completeness(timeline(entries), ZERO_HASH).outcome is Outcome.PASSED


def test_records_missing_at_the_end_show_the_head_on_chain_and_the_last_record() -> None:
    full = chain(3)
    assert check_completeness(timeline(full[:2]), full[2].record_hash) == failure(
        COMPLETENESS, "the chain holds a later record of this subject than the timeline shows: "
        "records are missing at the end", expected=hex_of(full[2]), actual=hex_of(full[1]))


# -- the loan ----------------------------------------------------------------------------------

def loan_records(*amounts: int) -> list[ProofBundle]:
    """The loan's creation, then one repayment of each amount, chained."""
    created = LoanCreation(platform=PLATFORM, subject=SUBJECT, prev=ZERO_HASH, timestamp=1,
                           loan=LOAN, due_times=(100,), amounts=(sum(amounts) or 1,))
    entries = [entry(created, 0)]
    for i, amount in enumerate(amounts):
        repaid = Repayment(platform=PLATFORM, subject=SUBJECT, prev=entries[-1].record_hash,
                           timestamp=2 + i, loan=LOAN, amount=amount)
        entries.append(entry(repaid, 1 + i))
    return entries


def held(repaid: int, platform: str = PLATFORM) -> LoanOnChain:
    return LoanOnChain(platform, repaid, "CURRENT")


def test_repayments_that_add_up_to_what_the_contract_holds_pass() -> None:
    entries = loan_records(30, 12)
    assert check_loan(timeline(entries, LOAN), held(42), entries[-1].record_hash) == Check(
        LOAN_CHECK, Outcome.PASSED,
        f"loan {to_hex(LOAN)} created at entry 0; its 2 repayments, 42 in all, are what the "
        "contract holds; status CURRENT")


def test_repayments_adding_up_to_another_amount_show_both_sums() -> None:
    entries = loan_records(30, 12)
    assert check_loan(timeline(entries, LOAN), held(41), entries[-1].record_hash) == failure(
        LOAN_CHECK, "the loan's 2 repayments in the timeline add up to another amount than the "
        "contract holds as repaid", expected="41", actual="42")


def test_only_repayments_up_to_the_head_on_chain_are_added() -> None:
    entries = loan_records(30, 12)
    # The contract holds the subject up to the first repayment; the second came after.
    assert check_loan(timeline(entries, LOAN), held(30), entries[1].record_hash).outcome is (
        Outcome.PASSED)
    # A head of the subject the timeline does not show: every entry counts.
    assert check_loan(timeline(entries, LOAN), held(42), b"\x77" * 32).outcome is (
        Outcome.PASSED)
    # No head on chain yet: no repayment counts.
    assert check_loan(timeline(entries, LOAN), held(0), ZERO_HASH) == Check(
        LOAN_CHECK, Outcome.PASSED,
        f"loan {to_hex(LOAN)} created at entry 0; its 0 repayments, 0 in all, are what the "
        "contract holds; status CURRENT")


def test_with_no_head_on_chain_not_even_a_first_entry_is_added() -> None:
    created, repaid = loan_records(30)
    # A repayment shown before the creation: with no head on chain, no entry counts at all.
    entries = [dataclasses.replace(repaid, leaf_index=0), dataclasses.replace(created, leaf_index=1)]
    assert check_loan(timeline(entries, LOAN), held(0), ZERO_HASH).outcome is Outcome.PASSED


def test_repayments_of_another_loan_are_not_added() -> None:
    entries = loan_records(30)
    other = Repayment(platform=PLATFORM, subject=SUBJECT, prev=entries[-1].record_hash,
                      timestamp=5, loan=b"\x1b" * 32, amount=99)
    entries.append(entry(other, 5))
    assert check_loan(timeline(entries, LOAN), held(30), entries[-1].record_hash).outcome is (
        Outcome.PASSED)


def test_a_timeline_without_the_loans_creation_fails_naming_the_loan() -> None:
    entries = loan_records(30)[1:]
    assert check_loan(timeline(entries, LOAN), held(30), ZERO_HASH) == failure(
        LOAN_CHECK, f"the timeline holds no creation record of loan {to_hex(LOAN)}")
    other_loan = b"\x1b" * 32
    assert check_loan(timeline(loan_records(30), other_loan), held(30), ZERO_HASH) == failure(
        LOAN_CHECK, f"the timeline holds no creation record of loan {to_hex(other_loan)}")


def test_a_loan_the_contract_holds_for_another_platform_shows_both() -> None:
    entries = loan_records(30)
    zero = "0x" + "00" * 20
    assert check_loan(timeline(entries, LOAN), held(30, zero), ZERO_HASH) == failure(
        LOAN_CHECK, "the contract holds no such loan of this subject at this platform",
        expected=PLATFORM, actual=zero)


def test_the_creation_is_named_by_its_entry() -> None:
    entries = [*chain(1), *loan_records(5)]  # the loan's records follow a binding
    check = check_loan(timeline(entries, LOAN), held(5), b"\x77" * 32)
    assert check.detail.startswith(f"loan {to_hex(LOAN)} created at entry 1;")


# -- the document ------------------------------------------------------------------------------

def document(**changes: Any) -> dict[str, Any]:
    doc = timeline(chain(2), LOAN).to_json()
    for name, value in changes.items():
        if value is KeyError:
            del doc[name]
        else:
            doc[name] = value
    return doc


def test_a_timeline_survives_a_round_trip_with_and_without_a_loan() -> None:
    for loan in (LOAN, None):
        original = timeline(chain(2), loan)
        text = original.dumps()
        assert text == json.dumps(original.to_json(), indent=2) + "\n"
        assert Timeline.loads(text) == original
        assert Timeline.loads(text.encode()) == original
        assert ("loan" in original.to_json()) is (loan is not None)


def test_the_members_are_written_in_their_order() -> None:
    assert list(document()) == ["format", "platform", "subject", "chainHead", "loan", "entries"]
    assert document()["loan"] == to_hex(LOAN)


def refusal_of(doc: object, kind: type[Exception] = TimelineDecodeError) -> str:
    with pytest.raises(kind) as refused:
        Timeline.from_json(doc)
    return str(refused.value)


@pytest.mark.parametrize(("doc", "kind", "reason"), [
    ([], TimelineDecodeError, "a timeline must be a JSON object"),
    (document(format="bindledger.proof/1"), TimelineDecodeError,
     "format must be 'bindledger.timeline/1', got 'bindledger.proof/1'"),
    (document(note=1), FieldValueError, "unknown member(s) ['note']"),
    (document(entries={}), FieldValueError, "entries must be a JSON array"),
    (document(subject="0x12"), FieldValueError, "subject must be 32 bytes, got 1"),
    (document(chainHead="12"), FieldValueError, "chainHead must be 0x-prefixed hex, got '12'"),
    (document(chainHead="0x" + "00" * 31), FieldValueError, "chainHead must be 32 bytes, got 31"),
    (document(loan="0x"), FieldValueError, "loan must be 32 bytes, got 0"),
    (document(platform=7), FieldValueError, "platform must be an address, got 7"),
])
def test_a_document_that_is_not_a_timeline_is_told_its_exact_reason(
        doc: object, kind: type[Exception], reason: str) -> None:
    assert refusal_of(doc, kind) == reason


@pytest.mark.parametrize("member", ["format", "platform", "subject", "chainHead", "entries"])
def test_every_required_member_is_named_when_missing(member: str) -> None:
    if member == "format":
        assert refusal_of(document(format=KeyError)) == (
            "format must be 'bindledger.timeline/1', got None")
    else:
        assert refusal_of(document(**{member: KeyError}), MissingFieldError) == (
            f"missing member {member}")


def test_a_timeline_without_a_loan_member_is_a_subjects_timeline() -> None:
    assert Timeline.from_json(document(loan=KeyError)).loan is None


def test_an_unreadable_entry_is_named_by_its_index_keeping_its_kind_of_error() -> None:
    entries = document()["entries"]
    del entries[1]["recordHash"]
    assert refusal_of(document(entries=entries), MissingFieldError) == (
        "entries[1]: missing member recordHash")


def test_exactly_the_maximum_number_of_entries_is_read_and_one_more_is_refused() -> None:
    # At the limit, reading goes on to the entries themselves (and finds the first unreadable).
    assert refusal_of(document(entries=[None] * MAX_TIMELINE_ENTRIES), BundleDecodeError) == (
        "entries[0]: a proof bundle must be a JSON object")
    assert refusal_of(document(entries=[None] * (MAX_TIMELINE_ENTRIES + 1)),
                      FieldValueError) == "more than 10000 entries"


def test_a_document_of_exactly_the_maximum_size_is_parsed_and_one_byte_more_is_not() -> None:
    text = timeline(chain(1)).dumps().encode()
    padded = text + b" " * (MAX_TIMELINE_BYTES - len(text))
    assert Timeline.loads(padded) == timeline(chain(1))
    with pytest.raises(TimelineDecodeError) as refused:
        Timeline.loads(padded + b" ")
    assert str(refused.value) == "document is larger than 33554432 bytes"


@pytest.mark.parametrize(("text", "reason"), [
    (b"{nope", ("not JSON: Expecting property name enclosed in double quotes: line 1 column 2 "
               "(char 1)")),
    (b"\xff", "not JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    (b"[" * 40 + b"]" * 40, "JSON nests deeper than 32 levels"),
])
def test_text_that_is_not_a_timeline_document_is_told_why(text: bytes, reason: str) -> None:
    with pytest.raises(TimelineDecodeError) as refused:
        Timeline.loads(text)
    assert str(refused.value) == reason


def test_refusals_under_a_release_that_attests_none_are_not_counted() -> None:
    # Version 1 of the contract had no attestRefusal: its timelines stay complete without.
    entries, _ = refused_twice()
    check = check_completeness(timeline(entries), entries[-1].record_hash, None)
    assert check.outcome is Outcome.PASSED
    assert "(and 2 refusals beside the chain, a contract release that attests none)" in (
        check.detail)


def test_only_refusals_are_said_to_be_attested_among_the_records_beside_the_chain() -> None:
    entries, attested = refused_twice()
    evidence = entry(Evidence(platform=PLATFORM, subject=SUBJECT, prev=entries[0].record_hash,
                              timestamp=9, record=entries[0].record_hash,
                              commitment=b"\x07" * 32), 7)
    with_evidence = [*entries[:3], evidence, entries[3]]
    check = check_completeness(timeline(with_evidence), entries[-1].record_hash, attested)
    assert check.outcome is Outcome.PASSED
    assert "(and 3 refusals beside the chain, 2 of them refusals the contract attested)" in (
        check.detail)
