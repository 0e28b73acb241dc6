"""Export a subject's or a loan's timeline from the ledger, and verify one against a chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.anchors import AnchorContract, ForeignContractError
from ledger.chain.client import ChainClient, ChainUnreachableError
from ledger.chain.redact import redact_text
from ledger.core.encoding import to_hex
from ledger.core.records import LoanCreation
from ledger.core.timeline import (
    LoanOnChain,
    RefusalChain,
    Timeline,
    check_completeness,
    check_loan,
)
from ledger.core.verdict import Check, CheckName, Outcome, Verdict, failed
from ledger.errors import LedgerLookupError
from ledger.rules import LoanStatus
from ledger.service import Ledger
from ledger.verify import AnchorCheckCache, cannot_check, verify_bundle


class UnknownLoanTimelineError(LedgerLookupError):
    """The platform's log holds no creation record with this hash."""


def export_timeline(
    ledger: Ledger, platform: str, subject: bytes, loan: bytes | None = None
) -> Timeline:
    """Every record of the subject at the platform, with proofs against anchored heads; with
    `loan` (a loan's reference), the timeline names that loan of the subject.

    Raises NotAnchoredError if a record is not anchored yet (anchor first).
    """
    address = ledger.platform(platform).address
    rows = ledger.store.records_of_subject(address, subject)
    return Timeline(
        platform=address,
        subject=subject,
        chain_head=subject_head_on_chain(ledger.contract, address, subject),
        entries=[ledger.proof_bundle(row.id) for row in rows],
        loan=loan,
    )


def export_loan_timeline(ledger: Ledger, loan_id: bytes, platform: str | None = None) -> Timeline:
    """The timeline of the loan whose id (its creation record's hash, as the API returns it)
    is `loan_id`: its subject's timeline, naming the loan. With `platform`, only a loan of
    that platform is found.

    Raises UnknownLoanTimelineError, NotAnchoredError.
    """
    address = None if platform is None else ledger.platform(platform).address
    row = ledger.store.get_record_by_hash(loan_id)
    creation = None if row is None else ledger.read(row).record.record
    if row is None or not isinstance(creation, LoanCreation) or address not in (None, row.platform):
        whose = "this ledger" if address is None else f"platform {address}"
        raise UnknownLoanTimelineError(f"{whose} holds no loan {to_hex(loan_id)}")
    return export_timeline(ledger, row.platform, creation.subject, creation.loan)


def subject_head_on_chain(contract: AnchorContract, platform: str, subject: bytes) -> bytes:
    """The subject's hash-chain head as the contract holds it (zero when none)."""
    state = contract.contract.functions.subjectState(platform, subject).call()
    return bytes(state[0])


# The first release that attests refusals (attestRefusal, refusalState).
REFUSALS_ATTESTED_FROM_VERSION = 2


def refusals_on_chain(
    contract: AnchorContract, platform: str, subject: bytes
) -> RefusalChain | None:
    """The subject's refusal chain as the contract holds it: the refusals it attested; None
    for a release that attests none (version 1: its timelines are complete without)."""
    try:
        if contract.version < REFUSALS_ATTESTED_FROM_VERSION:
            return None
    except ForeignContractError:
        pass  # no release: its entries' "head on chain" checks say so; read it as the current
    head, count = contract.contract.functions.refusalState(platform, subject).call()
    return RefusalChain(bytes(head), int(count))


def loan_on_chain(
    contract: AnchorContract, platform: str, subject: bytes, loan: bytes
) -> LoanOnChain:
    """What the contract holds of the platform's loan of the subject (loans are keyed by
    platform: the zero platform when it holds no such loan)."""
    view = contract.contract.functions.loanState(platform, subject, loan).call()
    phase, status, repaid = int(view[0]), int(view[1]), int(view[7])
    holder = platform if phase != 0 else "0x" + "00" * 20
    return LoanOnChain(platform=holder, repaid=repaid, status=LoanStatus(status).name)


@dataclass(frozen=True)
class TimelineVerdict:
    completeness: Check
    entries: list[tuple[int, str, Verdict]]  # (index, record type, verdict)
    loan: Check | None = None  # a loan's timeline: the loan as the contract holds it

    @property
    def verified(self) -> bool:
        return all(c.outcome is Outcome.PASSED for c in self.whole_checks) and all(
            v.verified for _, _, v in self.entries
        )

    @property
    def whole_checks(self) -> list[Check]:
        """The checks of the timeline as a whole (not of one record)."""
        return [self.completeness] + ([self.loan] if self.loan is not None else [])

    def reason(self) -> str:
        for check in self.whole_checks:
            if check.outcome is not Outcome.PASSED:
                return f"{check.name.value}: {check.detail}"
        for index, _, verdict in self.entries:
            if not verdict.verified:
                return f"entry {index}: {verdict.reason()}"
        return "all checks passed"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "reason": self.reason(),
            "completeness": self.completeness.to_json(),
        }
        if self.loan is not None:
            out["loan"] = self.loan.to_json()
        out["entries"] = [{"index": i, "type": t, **v.to_json()} for i, t, v in self.entries]
        return out


def verify_timeline(timeline: Timeline, chain: ChainClient) -> TimelineVerdict:
    """Check each record as a proof bundle, and the chain of records as a whole.

    Raises ChainUnreachableError ("cannot check: ...") when the chain does not answer."""
    cache = AnchorCheckCache()  # the entries share a few heads: read each from the chain once
    entries = [
        (i, e.record.record.TYPE_NAME, verify_bundle(e, chain, cache=cache))
        for i, e in enumerate(timeline.entries)
    ]
    if not timeline.entries:
        return TimelineVerdict(failed(CheckName.COMPLETENESS, "the timeline has no records"), [])
    contract = AnchorContract(chain, timeline.entries[0].anchor.contract)
    try:
        with cannot_check():
            head = subject_head_on_chain(contract, timeline.platform, timeline.subject)
            refusals = refusals_on_chain(contract, timeline.platform, timeline.subject)
            held = None if timeline.loan is None else loan_on_chain(
                contract, timeline.platform, timeline.subject, timeline.loan)
    except ChainUnreachableError:
        raise  # nothing can be concluded: not a failed check
    except Exception as exc:  # noqa: BLE001 - any provider error means: could not read it
        return TimelineVerdict(
            failed(
                CheckName.COMPLETENESS,
                "could not read the subject's head, refusals or loan on chain: "
                f"{redact_text(str(exc))}",
                expected=to_hex(timeline.chain_head),
                actual="unknown",
            ),
            entries,
        )
    loan = None if held is None else check_loan(timeline, held, head)
    return TimelineVerdict(check_completeness(timeline, head, refusals), entries, loan)
