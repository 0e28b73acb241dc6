"""A verifier built from docs/spec/ agrees with BindLedger's on real evidence, on anvil.

BindLedger makes the evidence (a loan's story with a rule refusal, anchored); the spec's verifier
(tests/spec/independent.py, no code from ledger/) checks it through raw JSON-RPC, every step of
verification.md, and reaches the same verdicts as ledger.verify, tampered evidence included.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.client import RpcChain
from ledger.config import Settings
from ledger.core.timeline import Timeline
from ledger.runtime import open_ledger
from ledger.store.sqlite import SqliteStore
from ledger.timeline import export_loan_timeline, verify_timeline
from tests.spec import independent as spec
from tests.spec.independent import Failed
from tests.support.loan_story import tell_story

_CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
# Every released version: the current build and the frozen earlier releases.
RELEASES: list[dict[str, Any]] = [
    json.loads(path.read_text())
    for path in [_CONTRACTS / "build" / "BindLedger.json",
                 *sorted(_CONTRACTS.glob("releases/v*/BindLedger.json"))]
]


@pytest.fixture(scope="module")
def evidence(anvil_url: str) -> dict[str, Any]:
    """A loan's timeline on anvil, as the server would hand it out."""
    chain = RpcChain(anvil_url)
    ledger = open_ledger(Settings(chain=anvil_url, confirmations=0), chain=chain,
                         store=SqliteStore(":memory:"))
    story = tell_story(ledger)
    document: dict[str, Any] = export_loan_timeline(ledger, story.loan_id).to_json()
    return document


def verify_as_the_spec_says(document: Any, url: str) -> None:
    """verification.md, "Timelines", from the document's JSON; raises Failed."""
    rpc = spec.json_rpc(url)
    timeline = spec.read_timeline(spec.parse_document(json.dumps(document)))
    for entry in timeline.entries:
        spec.offline_checks(entry)
        depth = spec.anchored(entry, rpc, RELEASES)
        assert depth >= 0
        if entry.record.type == "Refusal":
            spec.refusal_offline(entry)
            spec.replay_refusal(entry, rpc)
    contract = timeline.entries[0].contract
    spec.completeness(timeline, spec.subject_head(rpc, contract, timeline.platform,
                                                  timeline.subject),
                      spec.refusal_state(rpc, contract, timeline.platform, timeline.subject))


def ours(document: Any, url: str) -> bool:
    return verify_timeline(Timeline.from_json(document), RpcChain(url)).verified


def test_both_verifiers_accept_a_loans_timeline_with_its_refusal(
        evidence: dict[str, Any], anvil_url: str) -> None:
    assert any(e["record"]["type"] == "Refusal" for e in evidence["entries"])
    verify_as_the_spec_says(evidence, anvil_url)
    assert ours(evidence, anvil_url)


def _entry(document: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e for e in document["entries"] if e["record"]["type"] == kind)


def _tamper_head_root(doc: dict[str, Any]) -> None:
    _entry(doc, "Binding")["head"]["rootHash"] = "0x" + "00" * 32


def _tamper_block_hash(doc: dict[str, Any]) -> None:
    _entry(doc, "Binding")["anchor"]["blockHash"] = "0x" + "11" * 32


def _tamper_block_time(doc: dict[str, Any]) -> None:
    _entry(doc, "Binding")["anchor"]["blockTime"] += 1


def _tamper_tx(doc: dict[str, Any]) -> None:
    _entry(doc, "Binding")["anchor"]["txHash"] = "0x" + "22" * 32


def _tamper_refusal_revert(doc: dict[str, Any]) -> None:
    # Re-signing is not possible without the key, so the altered refusal fails its hash first:
    # both verifiers must reject it for some reason.
    refusal = _entry(doc, "Refusal")["record"]
    refusal["revert"] = refusal["revert"][:-2] + "ff"


def _drop_last(doc: dict[str, Any]) -> None:
    doc["entries"].pop()


def _drop_refusal(doc: dict[str, Any]) -> None:
    # Every other entry is genuine and still chains: only the attested refusals tell.
    doc["entries"].remove(_entry(doc, "Refusal"))


@pytest.mark.parametrize("tamper", [
    _tamper_head_root, _tamper_block_hash, _tamper_block_time, _tamper_tx,
    _tamper_refusal_revert, _drop_last, _drop_refusal,
])
def test_both_verifiers_reject_tampered_evidence(
        evidence: dict[str, Any], anvil_url: str, tamper: Any) -> None:
    document = copy.deepcopy(evidence)
    tamper(document)
    with pytest.raises(Failed):
        verify_as_the_spec_says(document, anvil_url)
    assert not ours(document, anvil_url)
