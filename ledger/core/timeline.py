"""Timelines: every record of one subject at one platform, each with its proof, in order.

A timeline is complete when the records form an unbroken hash chain from the subject's
first record (whose `prev` is zero) and it reaches the subject's head as the chain holds
it. A missing, reordered or altered record breaks the chain at a position we can name.
Refusals sit beside the chain: each names the head it was judged on as its `prev`, and the
next record still follows that head. The contract attests each refusal as it happens
(IRiskRules.attestRefusal), extending the subject's refusal chain, so a timeline is complete
only if its Refusal entries, in order, rebuild that chain to the head and count the contract
holds: a refusal left out is found.

A loan's timeline is its subject's timeline naming the loan (`loan`, the loan's reference as
its records carry it): the loan's records only mean something beside the binding,
verification and consent records they were judged on.
The document format is `bindledger.timeline/1`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from ledger.core.bundle import (
    BundleDecodeError,
    FieldValueError,
    MissingFieldError,
    ProofBundle,
    parse_json,
)
from ledger.core.encoding import HexDecodeError, from_hex, parse_address, to_hex
from ledger.core.jsonlimits import JsonTooDeepError, check_json_depth
from ledger.core.records import HASH_SIZE, ZERO_HASH, LoanCreation, Refusal, Repayment
from ledger.core.verdict import Check, CheckName, failed, passed

TIMELINE_FORMAT = "bindledger.timeline/1"
# A borrower accrues a few dozen records a year; this bounds a document, not a subject.
MAX_TIMELINE_ENTRIES = 10_000
MAX_TIMELINE_BYTES = 32 * 1024 * 1024

_MEMBERS = frozenset({"format", "platform", "subject", "chainHead", "entries"})
_OPTIONAL_MEMBERS = frozenset({"loan"})


class TimelineDecodeError(BundleDecodeError):
    """The document is not a readable timeline."""


@dataclass(frozen=True)
class Timeline:
    platform: str
    subject: bytes
    chain_head: bytes  # the subject's hash-chain head held on chain when exported
    entries: list[ProofBundle]
    loan: bytes | None = None  # set in a loan's timeline: the loan's reference

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": TIMELINE_FORMAT,
            "platform": self.platform,
            "subject": to_hex(self.subject),
            "chainHead": to_hex(self.chain_head),
        }
        if self.loan is not None:
            out["loan"] = to_hex(self.loan)
        out["entries"] = [entry.to_json() for entry in self.entries]
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

    @classmethod
    def loads(cls, text: str | bytes) -> Timeline:
        raw = text.encode() if isinstance(text, str) else text
        if len(raw) > MAX_TIMELINE_BYTES:
            raise TimelineDecodeError(f"document is larger than {MAX_TIMELINE_BYTES} bytes")
        try:
            check_json_depth(raw)
            doc = parse_json(raw)
        except JsonTooDeepError as exc:
            raise TimelineDecodeError(str(exc)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TimelineDecodeError(f"not JSON: {exc}") from None
        return cls.from_json(doc)

    @classmethod
    def from_json(cls, doc: object) -> Timeline:
        if not isinstance(doc, Mapping):
            raise TimelineDecodeError("a timeline must be a JSON object")
        if doc.get("format") != TIMELINE_FORMAT:
            raise TimelineDecodeError(
                f"format must be {TIMELINE_FORMAT!r}, got {doc.get('format')!r:.60}"
            )
        if unknown := set(doc) - _MEMBERS - _OPTIONAL_MEMBERS:
            raise FieldValueError(f"unknown member(s) {sorted(unknown)}")
        for name in _MEMBERS:
            if name not in doc:
                raise MissingFieldError(f"missing member {name}")
        entries = doc["entries"]
        if not isinstance(entries, list):
            raise FieldValueError("entries must be a JSON array")
        if len(entries) > MAX_TIMELINE_ENTRIES:
            raise FieldValueError(f"more than {MAX_TIMELINE_ENTRIES} entries")
        parsed = []
        for i, entry in enumerate(entries):
            try:
                parsed.append(ProofBundle.from_json(entry))
            except BundleDecodeError as exc:
                raise type(exc)(f"entries[{i}]: {exc}") from None
        try:
            subject = from_hex(doc["subject"], length=HASH_SIZE, what="subject")
            chain_head = from_hex(doc["chainHead"], length=HASH_SIZE, what="chainHead")
            loan = None if "loan" not in doc else from_hex(doc["loan"], length=HASH_SIZE,
                                                            what="loan")
        except HexDecodeError as exc:
            raise FieldValueError(str(exc)) from None
        try:
            platform = parse_address(doc["platform"], "platform")
        except HexDecodeError as exc:
            raise FieldValueError(str(exc)) from None
        return cls(platform, subject, chain_head, parsed, loan)


@dataclass(frozen=True)
class RefusalChain:
    """A subject's refusal chain at a platform, as IRiskRules.refusalState returns it: the
    number of refusals the contract attested and the head of their hash chain (zero for none)."""

    head: bytes = ZERO_HASH
    count: int = 0

    def extend(self, call: bytes, revert: bytes) -> RefusalChain:
        """The chain after one more refusal of `call` with `revert`, as attestRefusal extends
        it: keccak256(abi.encode(head, keccak256(call), keccak256(revert)))."""
        return RefusalChain(keccak(self.head + keccak(call) + keccak(revert)), self.count + 1)


NO_REFUSALS = RefusalChain()


def refusal_chain(timeline: Timeline) -> RefusalChain:
    """The refusal chain the timeline's Refusal entries build, in order."""
    built = NO_REFUSALS
    for entry in timeline.entries:
        record = entry.record.record
        if isinstance(record, Refusal):
            built = built.extend(record.call, record.revert)
    return built


def check_completeness(
    timeline: Timeline,
    head_on_chain: bytes,
    refusals_on_chain: RefusalChain | None = NO_REFUSALS,
) -> Check:
    """The entries form the subject's hash chain from its first record to `head_on_chain`,
    and their refusals rebuild the refusal chain the contract attested, `refusals_on_chain`
    (None: a contract release that attests no refusals, whose refusals are not counted).

    `head_on_chain` is the subject's head as the contract holds it now (zero if the subject
    has no rule records on chain). Records written after it (not submitted to the contract)
    may follow it; the chain must still be unbroken through them. A refusal is logged only
    once the contract attested it, so the timeline's refusals are exactly the attested ones.
    """
    name = CheckName.COMPLETENESS
    if not timeline.entries:
        return failed(name, "the timeline has no records")
    prev = ZERO_HASH
    last_index = -1
    last_chained = -1  # the entry whose record `prev` must now be
    seen: set[bytes] = {ZERO_HASH}
    for i, entry in enumerate(timeline.entries):
        record = entry.record.record
        if record.subject != timeline.subject or record.platform != timeline.platform:
            return failed(
                name,
                f"entry {i} belongs to another subject or platform",
                expected=f"{timeline.platform} {to_hex(timeline.subject)}",
                actual=f"{record.platform} {to_hex(record.subject)}",
            )
        if record.prev != prev:
            what = (
                "the first record must start the chain"
                if last_chained < 0
                else (
                    f"entry {i} does not follow entry {last_chained}: a record is missing, "
                    "reordered or altered between them"
                )
            )
            return failed(name, what, expected=to_hex(prev), actual=to_hex(record.prev))
        if entry.leaf_index <= last_index:
            return failed(
                name,
                f"entry {i} is not after entry {i - 1} in the log",
                expected=f"leaf index > {last_index}",
                actual=str(entry.leaf_index),
            )
        last_index = entry.leaf_index
        if record.EXTENDS_CHAIN:
            prev, last_chained = entry.record_hash, i
            seen.add(prev)
    if head_on_chain not in seen:
        return failed(
            name,
            "the chain holds a later record of this subject than the timeline "
            "shows: records are missing at the end",
            expected=to_hex(head_on_chain),
            actual=to_hex(prev),
        )
    refusals = None if refusals_on_chain is None else _check_refusals(timeline, refusals_on_chain)
    if refusals is not None:
        return refusals
    on_chain = (
        "no record of the subject is held by the contract yet"
        if head_on_chain == ZERO_HASH
        else f"the contract's head of the subject, {to_hex(head_on_chain)}, is among them"
    )
    beside = len(timeline.entries) - sum(e.record.record.EXTENDS_CHAIN for e in timeline.entries)
    refused = sum(isinstance(e.record.record, Refusal) for e in timeline.entries)
    if refusals_on_chain is None:
        which = "a contract release that attests none"
    elif refused == beside:
        which = f"{'all' if beside > 1 else 'the one'} the contract attested"
    else:  # evidence, erasures and the like sit beside the chain too; only refusals are attested
        which = f"{refused} of them refusals the contract attested"
    attested = f" (and {beside} refusal{'s' * (beside > 1)} beside the chain, {which})" if beside else ""
    return passed(
        name,
        f"{len(timeline.entries) - beside} records chained from the first to {to_hex(prev)}"
        f"{attested}; {on_chain}",
    )


def _check_refusals(timeline: Timeline, on_chain: RefusalChain) -> Check | None:
    """A failed completeness check when the timeline's refusals are not the ones the
    contract attested; None when they are."""
    built = refusal_chain(timeline)
    if built == on_chain:
        return None
    expected = f"{_refusals(on_chain.count)}, head {to_hex(on_chain.head)}"
    actual = f"{_refusals(built.count)}, head {to_hex(built.head)}"
    if built.count < on_chain.count:
        missing = on_chain.count - built.count
        what = (
            f"the contract attested {_refusals(on_chain.count)} of this subject, the timeline "
            f"holds {built.count}: {missing} refusal{'s are' if missing > 1 else ' is'} missing"
        )
    elif built.count > on_chain.count:
        what = (
            f"the timeline holds {_refusals(built.count)}, the contract attested "
            f"{on_chain.count}: a refusal in it was never attested"
        )
    else:
        what = (
            f"the timeline's {_refusals(built.count)} do not rebuild the contract's refusal "
            "chain: a refusal is missing, altered or reordered"
        )
    return failed(CheckName.COMPLETENESS, what, expected=expected, actual=actual)


def _refusals(count: int) -> str:
    return f"{count} refusal{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class LoanOnChain:
    """What the contract holds of a loan: its platform (zero when it holds no such loan of
    the subject), the amount repaid and its status."""

    platform: str
    repaid: int
    status: str


def check_loan(timeline: Timeline, held: LoanOnChain, head_on_chain: bytes) -> Check:
    """Requires a loan's timeline. It holds the loan's creation, and the repayments of the loan
    up to the subject's head on chain add up to what the contract holds as repaid."""
    name = CheckName.LOAN
    loan = timeline.loan
    assert loan is not None
    records = [(i, e.record.record) for i, e in enumerate(timeline.entries)]
    created = next(
        (i for i, r in records if isinstance(r, LoanCreation) and r.loan == loan), None
    )
    if created is None:
        return failed(name, f"the timeline holds no creation record of loan {to_hex(loan)}")
    if held.platform != timeline.platform:
        return failed(
            name,
            "the contract holds no such loan of this subject at this platform",
            expected=timeline.platform,
            actual=held.platform,
        )
    on_chain = _entries_up_to(timeline, head_on_chain)
    repayments = [
        r.amount for _, r in records[:on_chain] if isinstance(r, Repayment) and r.loan == loan
    ]
    if sum(repayments) != held.repaid:
        return failed(
            name,
            f"the loan's {len(repayments)} repayments in the timeline add up to another amount "
            "than the contract holds as repaid",
            expected=str(held.repaid),
            actual=str(sum(repayments)),
        )
    return passed(
        name,
        f"loan {to_hex(loan)} created at entry {created}; its {len(repayments)} repayments, "
        f"{sum(repayments)} in all, are what the contract holds; status {held.status}",
    )


def _entries_up_to(timeline: Timeline, head: bytes) -> int:
    """How many entries lead up to the record `head` (all of them when it is not among them)."""
    for i, entry in enumerate(timeline.entries):
        if entry.record_hash == head:
            return i + 1
    return 0 if head == ZERO_HASH else len(timeline.entries)
