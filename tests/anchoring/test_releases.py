"""Evidence made under an earlier release of the contract keeps verifying after a new one ships.

A consortium never upgrades a deployment in place: it deploys the new release beside the old
one, naming it as the predecessor. Bundles and timelines already handed out name the old
deployment, whose code is not contracts/build/ any more; the verifier recognises it among the
released versions (ledger/releases.py) and proves its heads by their receipts, as it does for
the current release. Run on eth-tester and on anvil.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.anchors import AnchorContract
from ledger.artifacts import load_artifact, load_release_artifact
from ledger.chain.client import ChainClient
from ledger.config import Settings
from ledger.core.bundle import ProofBundle
from ledger.core.records import Verification, VerificationMethod
from ledger.core.timeline import Timeline
from ledger.core.verdict import CheckName, Outcome
from ledger.releases import CURRENT_VERSION, same_code
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from ledger.timeline import export_timeline, verify_timeline
from ledger.verify import verify_bundle
from tests.test_anchoring import write_bindings


def ledger_on_release_1(settings: Settings, chain: ChainClient, store: SqliteStore) -> Ledger:
    """The ledger anchoring in a deployment of the frozen version 1 release."""
    admin = settings.admin_account
    chain.fund(admin.address)
    address = chain.deploy(admin, load_release_artifact(1), admin.address)
    return open_ledger(settings, chain=chain, store=store, contract=AnchorContract(chain, address))


def verification(ledger: Ledger, subject: bytes, n: int) -> Any:
    platform = next(iter(ledger.platforms.values()))
    return ledger.sign_and_submit(
        platform, subject,
        lambda prev: Verification(
            platform=platform.address, subject=subject, prev=prev, timestamp=ledger.now() + n,
            method=VerificationMethod.SMS_OTP, passed=True,
            phone=ledger.refs.phone("+86 138 0013 8000"),
        ),
    )


def test_a_bundle_and_a_timeline_made_under_version_1_verify_after_version_2_ships(
    settings: Settings, chain: ChainClient, store: SqliteStore
) -> None:
    ledger = ledger_on_release_1(settings, chain, store)
    assert ledger.contract.version == 1
    platform = next(iter(ledger.platforms.values())).address
    subject = ledger.refs.subject("borrower-v1")
    first = verification(ledger, subject, 0)
    write_bindings(ledger, 2, "before")
    ledger.seal_and_anchor()
    verification(ledger, subject, 1)
    write_bindings(ledger, 3, "after")
    ledger.seal_and_anchor()  # the first record's head is no longer the latest
    bundle = ProofBundle.loads(ledger.proof_bundle(first.row.id).dumps())
    timeline = Timeline.loads(export_timeline(ledger, platform, subject).dumps())
    assert bundle.head_size < ledger.contract.latest_head(platform).size

    # Version 2 ships beside it: contracts/build/ is no longer the code of the deployment the
    # evidence names.
    successor = AnchorContract.deploy(chain, settings.admin_account, ledger.contract.address)
    assert (successor.version, successor.predecessor()) == (
        CURRENT_VERSION, ledger.contract.address)
    assert not same_code(chain.code(ledger.contract.address), load_artifact("BindLedger"))

    verdict = verify_bundle(bundle, chain)
    assert verdict.verified, verdict.reason()
    head_check = next(c for c in verdict.checks if c.name is CheckName.HEAD_ON_CHAIN)
    assert head_check.detail.endswith("(BindLedger version 1)")
    timeline_verdict = verify_timeline(timeline, chain)
    assert timeline_verdict.verified, timeline_verdict.reason()
    assert len(timeline_verdict.entries) == 2

    # The head is proven by its receipt under version 1 too: another root is refused.
    altered = ProofBundle.loads(bundle.dumps().replace(
        bundle.head_root.hex(), bytes(32).hex()))
    altered_verdict = verify_bundle(altered, chain)
    assert not altered_verdict.verified
    assert [c.outcome for c in altered_verdict.checks if c.name is CheckName.HEAD_ON_CHAIN] == [
        Outcome.FAILED]


@pytest.mark.parametrize("version", [1, CURRENT_VERSION])
def test_every_release_is_recognised_by_its_code(
    settings: Settings, chain: ChainClient, version: int
) -> None:
    admin = settings.admin_account
    chain.fund(admin.address)
    if version == 1:
        address = chain.deploy(admin, load_release_artifact(1), admin.address)
    else:
        address = AnchorContract.deploy(chain, admin).address
    assert AnchorContract(chain, address).check_code().version == version
