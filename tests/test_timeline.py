"""Timelines: complete, in order, each record proven; any gap or change is named."""

from __future__ import annotations

import json

import pytest

from ledger.chain.client import EmbeddedChain
from ledger.config import Settings
from ledger.core.bundle import BundleDecodeError
from ledger.core.records import ZERO_HASH
from ledger.core.timeline import Timeline, TimelineDecodeError, check_completeness
from ledger.core.verdict import Outcome
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from ledger.timeline import export_timeline, verify_timeline
from tests.test_anchoring import write_bindings


@pytest.fixture(scope="module")
def story() -> tuple[Ledger, Timeline]:
    """One borrower with five records among other borrowers' records, all anchored."""
    ledger = open_ledger(Settings(), chain=EmbeddedChain(), store=SqliteStore())
    platform = next(iter(ledger.platforms.values()))
    subject = ledger.refs.subject("borrower-1")
    from ledger.core.records import Verification, VerificationMethod

    for i in range(5):
        write_bindings(ledger, 1, f"other-{i}")
        ledger.sign_and_submit(
            platform,
            subject,
            lambda prev, n=i: Verification(
                platform=platform.address,
                subject=subject,
                prev=prev,
                timestamp=1_800_000_000 + n,
                method=VerificationMethod.SMS_OTP,
                passed=True,
                phone=ledger.refs.phone("+86 138 0013 8000"),
            ),
        )
    ledger.seal_and_anchor()
    return ledger, export_timeline(ledger, platform.address, subject)


def test_an_exported_timeline_verifies_against_the_chain(story: tuple[Ledger, Timeline]) -> None:
    ledger, timeline = story
    assert len(timeline.entries) == 5
    verdict = verify_timeline(Timeline.loads(timeline.dumps()), ledger.chain)
    assert verdict.verified, verdict.reason()
    assert verdict.completeness.outcome is Outcome.PASSED


def without(timeline: Timeline, index: int) -> Timeline:
    return Timeline(
        timeline.platform,
        timeline.subject,
        timeline.chain_head,
        [e for i, e in enumerate(timeline.entries) if i != index],
    )


def test_a_missing_record_in_the_middle_is_named(story: tuple[Ledger, Timeline]) -> None:
    _, timeline = story
    check = check_completeness(without(timeline, 2), ZERO_HASH)
    assert check.outcome is Outcome.FAILED
    assert check.detail.startswith("entry 2 does not follow entry 1")
    assert check.expected == "0x" + timeline.entries[1].record_hash.hex()


def test_a_missing_first_record_is_named(story: tuple[Ledger, Timeline]) -> None:
    _, timeline = story
    check = check_completeness(without(timeline, 0), ZERO_HASH)
    assert check.detail == "the first record must start the chain"


def test_reordered_records_are_named(story: tuple[Ledger, Timeline]) -> None:
    _, timeline = story
    entries = list(timeline.entries)
    entries[1], entries[2] = entries[2], entries[1]
    check = check_completeness(
        Timeline(timeline.platform, timeline.subject, timeline.chain_head, entries), ZERO_HASH
    )
    assert check.detail.startswith("entry 1 does not follow entry 0")


def test_missing_records_at_the_end_are_caught_by_the_head_on_chain(
    story: tuple[Ledger, Timeline],
) -> None:
    _, timeline = story
    truncated = without(timeline, 4)
    check = check_completeness(truncated, timeline.entries[4].record_hash)
    assert check.outcome is Outcome.FAILED
    assert "records are missing at the end" in check.detail


def test_an_altered_record_fails_its_own_check_and_breaks_the_chain(
    story: tuple[Ledger, Timeline],
) -> None:
    ledger, timeline = story
    doc = json.loads(timeline.dumps())
    doc["entries"][1]["record"]["passed"] = False
    verdict = verify_timeline(Timeline.from_json(doc), ledger.chain)
    assert not verdict.verified
    assert verdict.reason().startswith("entry 1: record hash:")
    altered_hash = doc["entries"][1]["recordHash"] = "0x" + "00" * 32
    verdict = verify_timeline(Timeline.from_json(doc), ledger.chain)
    assert verdict.completeness.outcome is Outcome.FAILED
    assert verdict.completeness.actual != altered_hash


def test_another_subjects_record_is_refused(story: tuple[Ledger, Timeline]) -> None:
    _, timeline = story
    other = Timeline(timeline.platform, b"\x01" * 32, timeline.chain_head, timeline.entries)
    assert "belongs to another subject" in check_completeness(other, ZERO_HASH).detail


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ({"format": "bindledger.proof/1"}, "format must be 'bindledger.timeline/1'"),
        ({"format": "bindledger.timeline/1", "entries": []}, "missing member"),
        (
            {
                "format": "bindledger.timeline/1",
                "platform": "x",
                "subject": "0x" + "00" * 32,
                "chainHead": "0x" + "00" * 32,
                "entries": [{}],
            },
            r"entries\[0\]",
        ),
        (
            {
                "format": "bindledger.timeline/1",
                "platform": "x",
                "subject": "0x00",
                "chainHead": "0x" + "00" * 32,
                "entries": [],
            },
            "subject must be 32 bytes",
        ),
        ({"format": "bindledger.timeline/1", "extra": 1}, "unknown member"),
    ],
)
def test_unreadable_timelines_are_refused_with_the_reason(doc: object, error: str) -> None:
    with pytest.raises(BundleDecodeError, match=error):
        Timeline.from_json(doc)


def test_deeply_nested_timelines_are_refused() -> None:
    with pytest.raises(TimelineDecodeError, match="nests deeper"):
        Timeline.loads(b"[" * 5000 + b"]" * 5000)
