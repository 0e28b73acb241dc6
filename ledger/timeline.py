"""Export a subject's timeline from the ledger, and verify one against a chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.anchors import AnchorContract
from ledger.chain.client import ChainClient
from ledger.core.encoding import to_hex
from ledger.core.timeline import Timeline, check_completeness
from ledger.core.verdict import Check, CheckName, Verdict, failed
from ledger.service import Ledger
from ledger.verify import AnchorCheckCache, verify_bundle


def export_timeline(ledger: Ledger, platform: str, subject: bytes) -> Timeline:
    """Every record of the subject at the platform, with proofs against anchored heads.

    Raises NotAnchoredError if a record is not anchored yet (anchor first).
    """
    address = ledger.platform(platform).address
    rows = ledger.store.records_of_subject(address, subject)
    return Timeline(
        platform=address,
        subject=subject,
        chain_head=subject_head_on_chain(ledger.contract, address, subject),
        entries=[ledger.proof_bundle(row.id) for row in rows],
    )


def subject_head_on_chain(contract: AnchorContract, platform: str, subject: bytes) -> bytes:
    """The subject's hash-chain head as the contract holds it (zero when none)."""
    state = contract.contract.functions.subjectState(platform, subject).call()
    return bytes(state[0])


@dataclass(frozen=True)
class TimelineVerdict:
    completeness: Check
    entries: list[tuple[int, str, Verdict]]  # (index, record type, verdict)

    @property
    def verified(self) -> bool:
        return self.completeness.outcome.value == "passed" and all(
            v.verified for _, _, v in self.entries
        )

    def reason(self) -> str:
        if self.completeness.outcome.value != "passed":
            return f"completeness: {self.completeness.detail}"
        for index, _, verdict in self.entries:
            if not verdict.verified:
                return f"entry {index}: {verdict.reason()}"
        return "all checks passed"

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "reason": self.reason(),
            "completeness": self.completeness.to_json(),
            "entries": [{"index": i, "type": t, **v.to_json()} for i, t, v in self.entries],
        }


def verify_timeline(timeline: Timeline, chain: ChainClient) -> TimelineVerdict:
    """Check each record as a proof bundle, and the chain of records as a whole."""
    cache = AnchorCheckCache()  # the entries share a few heads: read each from the chain once
    entries = [
        (i, e.record.record.TYPE_NAME, verify_bundle(e, chain, cache=cache))
        for i, e in enumerate(timeline.entries)
    ]
    if not timeline.entries:
        return TimelineVerdict(failed(CheckName.COMPLETENESS, "the timeline has no records"), [])
    anchor = timeline.entries[0].anchor
    try:
        head = subject_head_on_chain(
            AnchorContract(chain, anchor.contract), timeline.platform, timeline.subject
        )
    except Exception as exc:  # noqa: BLE001 - any provider error means: could not read it
        return TimelineVerdict(
            failed(
                CheckName.COMPLETENESS,
                f"could not read the subject's head on chain: {exc}",
                expected=to_hex(timeline.chain_head),
                actual="unknown",
            ),
            entries,
        )
    return TimelineVerdict(check_completeness(timeline, head), entries)
