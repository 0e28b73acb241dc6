"""Risk warnings in the ledger, on the embedded chain: a model released (its file's SHA-256 in
a ModelRelease), a subject scored over its own records, the RiskWarning accepted by the
contract, extending the subject's chain, and seen in the timeline, the report and
GET /v1/subjects/{ref}/binding, where R9 shows open (on chain and in the log alike) until a
passed liveness check and a passed SIM-swap check follow the warning."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from eth_utils.crypto import keccak

from api.main import create_app
from ledger.chain.client import EmbeddedChain
from ledger.config import DEV_PLATFORM_API_KEY, Platform, Settings
from ledger.core.records import (
    RISK_MODEL_SUBJECT,
    Binding,
    BindingAction,
    ModelRelease,
    RiskWarning,
    Verification,
    VerificationMethod,
    factor_mask,
    sign_record,
)
from ledger.core.timeline import Timeline
from ledger.report import render_report
from ledger.risk.evaluate import dataset
from ledger.risk.features import feature_list_hash
from ledger.risk.model import RiskModel, fit
from ledger.risk.warnings import (
    ModelNotReleasedError,
    assess,
    release_model,
    releases,
    warning_open,
    warnings_of,
)
from ledger.rules import rules_for
from ledger.runtime import open_ledger
from ledger.service import Ledger, ReservedRecordTypeError
from ledger.store.sqlite import SqliteStore
from ledger.timeline import export_timeline, verify_timeline
from tests.support.server import serving

RISKY = keccak(text="risky borrower")
CALM = keccak(text="calm borrower")


@pytest.fixture(scope="module")
def model() -> RiskModel:
    data = dataset(800, seed=31)
    return fit(data.rows, data.labels, seed=31)


@dataclass
class World:
    ledger: Ledger
    platform: Platform


@pytest.fixture
def world() -> Iterator[World]:
    store = SqliteStore()
    ledger = open_ledger(Settings(), chain=EmbeddedChain(), store=store)
    yield World(ledger, next(iter(ledger.platforms.values())))
    store.close()


def bind(world: World, subject: bytes, phone: bytes) -> None:
    rules = rules_for(world.ledger)
    platform = world.platform
    base = {"platform": platform.address, "subject": subject,
            "timestamp": world.ledger.now()}
    rules.sign_and_submit(platform, subject, lambda prev: Binding(
        **base, prev=prev, action=BindingAction.BIND, phone=phone, account=subject,
        factors=factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])))


def verify(world: World, subject: bytes, phone: bytes, method: VerificationMethod,
           passed: bool) -> None:
    base = {"platform": world.platform.address, "subject": subject,
            "timestamp": world.ledger.now()}
    rules_for(world.ledger).sign_and_submit(world.platform, subject, lambda prev: Verification(
        **base, prev=prev, method=method, passed=passed, phone=phone))


def takeover_signals(world: World) -> None:
    phone = keccak(text="risky phone")
    bind(world, RISKY, phone)
    verify(world, RISKY, phone, VerificationMethod.SIM_SWAP_CHECK, False)
    for _ in range(3):
        verify(world, RISKY, phone, VerificationMethod.LIVENESS, False)


def test_a_release_records_the_model_files_sha256(world: World, model: RiskModel,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(model.to_bytes())
    accepted = release_model(world.ledger, world.platform, model)
    release = accepted.record.record
    assert isinstance(release, ModelRelease)
    assert release.model == hashlib.sha256(path.read_bytes()).digest()
    assert release.features == feature_list_hash()
    assert (release.seed, release.threshold) == (31, model.threshold)
    assert release.subject == RISK_MODEL_SUBJECT
    assert releases(world.ledger, world.platform.address) == [release]
    # Anchored like any other record: its proof bundle verifies.
    world.ledger.seal_and_anchor()
    timeline = export_timeline(world.ledger, world.platform.address, RISK_MODEL_SUBJECT)
    assert verify_timeline(timeline, world.ledger.chain).verified


def test_an_unreleased_model_does_not_warn(world: World, model: RiskModel) -> None:
    takeover_signals(world)
    with pytest.raises(ModelNotReleasedError, match="never released"):
        assess(world.ledger, world.platform, RISKY, model)
    assert warnings_of(world.ledger, world.platform.address, RISKY) == []


def test_a_risky_subject_is_warned_and_the_warning_is_in_its_timeline_and_report(
        world: World, model: RiskModel) -> None:
    release_model(world.ledger, world.platform, model)
    takeover_signals(world)
    assessed = assess(world.ledger, world.platform, RISKY, model)
    assert assessed.score.basis_points >= model.threshold
    assert assessed.warning is not None
    warning = assessed.warning.record.record
    assert isinstance(warning, RiskWarning)
    assert (warning.score, warning.threshold) == (assessed.score.basis_points, model.threshold)
    assert warning.model == model.sha256 and warning.features == feature_list_hash()
    assert list(warning.top) == [c.feature for c in assessed.score.top]
    assert "failed_liveness_30d" in [c.name for c in assessed.score.top]
    # The contract accepted it: it is the subject's head, on chain and in the log.
    head = world.ledger.subject_head(world.platform.address, RISKY)
    assert head == assessed.warning.row.record_hash
    assert rules_for(world.ledger).subject_state(world.platform.address, RISKY).head == head
    assert assessed.tx is not None
    assert rules_for(world.ledger).warning_state(
        world.platform.address, RISKY).warned_at == warning.timestamp

    world.ledger.seal_and_anchor()
    timeline = Timeline.loads(
        export_timeline(world.ledger, world.platform.address, RISKY).dumps())
    kinds = [e.record.record.TYPE_NAME for e in timeline.entries]
    assert kinds[-1] == "RiskWarning" and kinds.count("RiskWarning") == 1
    verdict = verify_timeline(timeline, world.ledger.chain)
    assert verdict.verified, verdict.reason()
    page = render_report(timeline, verdict, {})
    assert "risk warning (R9)" in page and "failed_liveness_30d" in page
    assert "<polygon" in page  # the warning's mark in the picture


def test_a_subject_below_the_threshold_gets_no_warning(world: World, model: RiskModel) -> None:
    calm = replace(model, threshold=10_000)
    release_model(world.ledger, world.platform, calm)
    bind(world, CALM, keccak(text="calm phone"))
    assessed = assess(world.ledger, world.platform, CALM, calm)
    assert assessed.score.basis_points < 10_000 and assessed.warning is None
    assert warnings_of(world.ledger, world.platform.address, CALM) == []


def test_the_binding_route_shows_the_warning_and_r9_until_fresh_checks_pass(
        world: World, model: RiskModel) -> None:
    release_model(world.ledger, world.platform, model)
    takeover_signals(world)
    assessed = assess(world.ledger, world.platform, RISKY, model)
    assert assessed.warning is not None
    headers = {"X-API-Key": DEV_PLATFORM_API_KEY}
    with serving(create_app(Settings(), world.ledger, run_worker=False)) as url:
        path = f"{url}/v1/subjects/0x{RISKY.hex()}/binding"
        body = httpx.get(path, headers=headers).json()
        (shown,) = body["riskWarnings"]
        assert shown["recordHash"] == "0x" + assessed.warning.row.record_hash.hex()
        assert shown["score"] == assessed.score.basis_points
        assert shown["threshold"] == model.threshold
        assert shown["model"] == "0x" + model.sha256.hex()
        assert shown["topFeatures"] == [c.name for c in assessed.score.top]
        # The route reads R9 from the contract; the log's reading agrees at every step.
        assert body["riskWarningOpen"] is True
        assert body["riskWarnedAt"] == assessed.warning.record.record.timestamp
        assert warning_open(world.ledger, world.platform.address, RISKY) is True
        phone = keccak(text="risky phone")
        verify(world, RISKY, phone, VerificationMethod.LIVENESS, True)
        assert httpx.get(path, headers=headers).json()["riskWarningOpen"] is True
        assert warning_open(world.ledger, world.platform.address, RISKY) is True
        verify(world, RISKY, phone, VerificationMethod.SIM_SWAP_CHECK, True)
        body = httpx.get(path, headers=headers).json()
        assert body["riskWarningOpen"] is False and len(body["riskWarnings"]) == 1
        assert body["riskWarnedAt"] == 0
        assert warning_open(world.ledger, world.platform.address, RISKY) is False
        calm = httpx.get(f"{url}/v1/subjects/0x{CALM.hex()}/binding", headers=headers).json()
        assert calm["riskWarnings"] == [] and calm["riskWarningOpen"] is False


def test_the_specifications_verifier_reads_a_timeline_with_a_warning_as_complete(
        world: World, model: RiskModel) -> None:
    from tests.spec import independent as spec

    release_model(world.ledger, world.platform, model)
    takeover_signals(world)
    assert assess(world.ledger, world.platform, RISKY, model).warning is not None
    verify(world, RISKY, keccak(text="risky phone"), VerificationMethod.LIVENESS, True)
    world.ledger.seal_and_anchor()
    exported = export_timeline(world.ledger, world.platform.address, RISKY)
    kinds = [e.record.record.TYPE_NAME for e in exported.entries]
    assert kinds[-2:] == ["RiskWarning", "Verification"]
    head = world.ledger.subject_head(world.platform.address, RISKY)
    spec.completeness(spec.read_timeline(spec.parse_document(exported.dumps())), head)


def test_a_platform_cannot_relay_a_risk_warning_of_its_own(world: World,
                                                           model: RiskModel) -> None:
    bind(world, RISKY, keccak(text="risky phone"))
    record = RiskWarning(
        platform=world.platform.address, subject=RISKY,
        prev=world.ledger.subject_head(world.platform.address, RISKY),
        timestamp=world.ledger.now(), model=model.sha256, features=feature_list_hash(),
        score=9_000, threshold=4_000, top=(6,))
    signed = sign_record(record, world.ledger.domain, bytes(world.platform.account.key))
    with pytest.raises(ReservedRecordTypeError, match="written by BindLedger"):
        rules_for(world.ledger).relay(signed)
    with serving(create_app(Settings(), world.ledger, run_worker=False)) as url:
        answer = httpx.post(f"{url}/v1/subjects/records/signed", json=signed.to_json(),
                            headers={"X-API-Key": DEV_PLATFORM_API_KEY})
    assert answer.status_code == 422, answer.text
    assert "written by BindLedger" in answer.json()["detail"]
    assert rules_for(world.ledger).warning_state(world.platform.address, RISKY).open is False
