"""The platform client reads proofs and timelines once their anchors are final, waiting while
the server answers 409, and verifies them against a chain the caller names; it writes rule
records through the contract, and resending one after its subject moved on finds it stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.client import (
    LedgerClient,
    NotFinalYet,
    PlatformKey,
    References,
    verify_proof,
    verify_timeline_on,
)
from ledger.config import DEV_PLATFORM_API_KEY
from tests.client.conftest import serving
from tests.support.anvil import mining, running_anvil


def binding(subject: str) -> dict[str, object]:
    return {"type": "Binding", "subject": subject, "action": "BIND", "phone": "138 0013 8000",
            "account": "LOAN-0001", "factors": ["SMS_OTP", "LIVENESS"]}


def verification(subject: str) -> dict[str, object]:
    return {"type": "Verification", "subject": subject, "method": "SMS_OTP", "passed": True,
            "phone": "+86 138 0013 8000"}


def test_a_proof_fetched_by_the_client_verifies_on_the_chain_and_on_no_other(
        client: LedgerClient, chain_url: str) -> None:
    stored = client.submit(client.sign(verification("reads-proof")))
    client.anchor()

    bundle = client.proof(stored.id, wait=30)

    assert bundle.record_hash == stored.record_hash
    verdict = verify_proof(bundle, chain_url)
    assert verdict.verified, verdict.to_json()
    with running_anvil() as elsewhere:  # a chain that never saw the anchor
        assert not verify_proof(bundle, elsewhere).verified


def test_rule_records_go_through_the_contract_and_the_timeline_verifies(
        client: LedgerClient, references: References, chain_url: str) -> None:
    bound = client.submit(client.sign(binding("reads-rules")), rules=True)
    verified = client.submit(client.sign(verification("reads-rules")), rules=True)
    client.anchor()

    timeline = client.timeline(references.subject("reads-rules"), wait=30)

    assert [e.record_hash for e in timeline.entries] == [bound.record_hash, verified.record_hash]
    assert [e.record.record.TYPE_NAME for e in timeline.entries] == ["Binding", "Verification"]
    verdict = verify_timeline_on(timeline, chain_url)
    assert verdict.verified, verdict.to_json()


def test_a_rule_record_resent_after_its_subject_moved_on_is_found_stored(
        client: LedgerClient) -> None:
    first = client.sign(binding("reads-resent-rule"))
    stored = client.submit(first, rules=True)
    client.submit(client.sign(verification("reads-resent-rule")), rules=True)

    again = client.submit(first, rules=True)  # its answer was lost, say

    assert again.already_stored and again.id == stored.id


def test_a_proof_not_final_yet_is_waited_for_or_refused_as_not_final(
        tmp_path: Path, platform_key: PlatformKey, references: References) -> None:
    with running_anvil() as chain, serving(chain, tmp_path / "l.sqlite3", confirmations=1) as api, \
            LedgerClient(api, DEV_PLATFORM_API_KEY, key=platform_key,
                         references=references) as client:
        stored = client.submit(client.sign(verification("reads-not-final")))
        client.anchor()
        # anvil mines only on a transaction: no block follows the anchor's yet.
        with pytest.raises(NotFinalYet) as not_final:
            client.proof(stored.id, wait=1.5)
        assert not_final.value.status == 409

        with mining(chain):
            bundle = client.proof(stored.id, wait=60)
        assert verify_proof(bundle, chain).verified
