"""The risk routes, served over HTTP on the embedded chain: a platform releases the configured
model, then asks for a subject's score; a warning follows at the threshold, and the subject's
binding shows it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_utils.crypto import keccak

from api.main import create_app
from ledger.chain.client import EmbeddedChain
from ledger.config import DEV_PLATFORM_API_KEY, DEV_REGULATOR_API_KEY, Settings
from ledger.core.records import (
    Binding,
    BindingAction,
    Verification,
    VerificationMethod,
    factor_mask,
)
from ledger.risk.evaluate import dataset
from ledger.risk.model import fit
from ledger.rules import rules_for
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from tests.support.server import serving

SUBJECT = keccak(text="borrower under watch")
PHONE = keccak(text="borrower's phone")
PLATFORM_KEY = {"X-API-Key": DEV_PLATFORM_API_KEY}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = dataset(800, seed=41)
    path = tmp_path_factory.mktemp("risk-api") / "model.json"
    path.write_bytes(fit(data.rows, data.labels, seed=41).to_bytes())
    return path


def served(settings: Settings) -> Iterator[tuple[str, Ledger]]:
    store = SqliteStore()
    ledger = open_ledger(settings, chain=EmbeddedChain(), store=store)
    with serving(create_app(settings, ledger, run_worker=False)) as url:
        yield url, ledger
    store.close()


@pytest.fixture
def with_model(model_file: Path) -> Iterator[tuple[str, Ledger]]:
    yield from served(Settings(risk_model=str(model_file)))


def takeover_signals(ledger: Ledger) -> None:
    rules = rules_for(ledger)
    platform = next(iter(ledger.platforms.values()))
    base = {"platform": platform.address, "subject": SUBJECT}
    rules.sign_and_submit(platform, SUBJECT, lambda prev: Binding(
        **base, prev=prev, timestamp=ledger.now(), action=BindingAction.BIND, phone=PHONE,
        account=SUBJECT,
        factors=factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])))
    for method, passed in [(VerificationMethod.SIM_SWAP_CHECK, False),
                           *[(VerificationMethod.LIVENESS, False)] * 3]:
        rules.sign_and_submit(platform, SUBJECT, lambda prev, m=method, p=passed: Verification(
            **base, prev=prev, timestamp=ledger.now(), method=m, passed=p, phone=PHONE))


def test_a_release_then_a_score_at_the_threshold_writes_a_warning_the_binding_shows(
        with_model: tuple[str, Ledger], model_file: Path) -> None:
    url, ledger = with_model
    takeover_signals(ledger)
    assess = f"{url}/v1/subjects/0x{SUBJECT.hex()}/risk"
    unreleased = httpx.post(assess, headers=PLATFORM_KEY)
    assert unreleased.status_code == 409 and "never released" in unreleased.json()["detail"]

    released = httpx.post(f"{url}/v1/risk/releases", headers=PLATFORM_KEY)
    assert released.status_code == 201, released.text
    assert released.json()["model"] == "0x" + hashlib.sha256(model_file.read_bytes()).hexdigest()

    scored = httpx.post(assess, headers=PLATFORM_KEY)
    assert scored.status_code == 200, scored.text
    body = scored.json()
    assert body["score"] >= body["threshold"] == released.json()["threshold"]
    warning = body["warning"]
    assert warning is not None and warning["topFeatures"] == body["topFeatures"]
    binding = httpx.get(f"{url}/v1/subjects/0x{SUBJECT.hex()}/binding",
                        headers=PLATFORM_KEY).json()
    assert binding["riskWarnings"] == [warning] and binding["riskWarningOpen"] is True


def test_only_a_platform_releases_and_scores(with_model: tuple[str, Ledger]) -> None:
    url, _ = with_model
    regulator = {"X-API-Key": DEV_REGULATOR_API_KEY}
    assert httpx.post(f"{url}/v1/risk/releases", headers=regulator).status_code == 403
    assert httpx.post(f"{url}/v1/risk/releases").status_code == 401
    bad = httpx.post(f"{url}/v1/subjects/0x1234/risk", headers=PLATFORM_KEY)
    assert bad.status_code == 422


def test_without_a_configured_model_the_routes_say_so() -> None:
    for url, _ in served(Settings()):
        answer = httpx.post(f"{url}/v1/risk/releases", headers=PLATFORM_KEY)
        assert answer.status_code == 409
        assert "BINDLEDGER_RISK_MODEL" in answer.json()["detail"]
