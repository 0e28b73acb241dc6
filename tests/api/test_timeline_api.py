"""GET /v1/subjects/{ref}/timeline: a regulator reads any platform's, a platform its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.main import create_app
from ledger.chain.client import EmbeddedChain
from ledger.config import DEV_PLATFORM_API_KEY, DEV_REGULATOR_API_KEY, Settings
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from tests.support.loan_story import served_loan_story
from tests.support.server import serving
from tests.test_anchoring import write_bindings


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, Ledger]]:
    ledger = open_ledger(Settings(), chain=EmbeddedChain(), store=SqliteStore())
    write_bindings(ledger, 2)
    ledger.seal_and_anchor()
    with serving(create_app(Settings(), ledger, run_worker=False)) as url:
        yield url, ledger


def get(site: tuple[str, Ledger], subject: str, key: str | None, **params: str) -> httpx.Response:
    url, ledger = site
    ref = "0x" + ledger.refs.subject(subject).hex()
    headers = {"X-API-Key": key} if key else {}
    return httpx.get(f"{url}/v1/subjects/{ref}/timeline", headers=headers, params=params)


@pytest.mark.parametrize("key", [DEV_REGULATOR_API_KEY, DEV_PLATFORM_API_KEY])
def test_a_regulator_or_the_own_platform_reads_the_timeline(site: tuple[str, Ledger],
                                                            key: str) -> None:
    response = get(site, "s-1", key)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["format"] == "bindledger.timeline/1" and len(doc["entries"]) == 1
    verdict = httpx.post(site[0] + "/v1/verify/timeline", json=doc).json()
    assert verdict["verified"] is True, verdict["reason"]


@pytest.mark.parametrize(("key", "status", "detail"), [
    (None, 401, "missing X-API-Key header"),
    ("wrong", 401, "unknown API key"),
])
def test_a_missing_or_unknown_key_is_refused(site: tuple[str, Ledger], key: str | None,
                                             status: int, detail: str) -> None:
    response = get(site, "s-1", key)
    assert (response.status_code, response.json()["detail"]) == (status, detail)


def test_a_platform_naming_a_platform_not_served_here_is_refused(
        site: tuple[str, Ledger]) -> None:
    other = "0x" + "12" * 20
    response = get(site, "s-1", DEV_PLATFORM_API_KEY, platform=other)
    assert (response.status_code, response.json()["detail"]) == (
        422, f"platform {other} is not served here")


def test_an_unknown_subject_is_404(site: tuple[str, Ledger]) -> None:
    response = get(site, "nobody", DEV_REGULATOR_API_KEY)
    assert (response.status_code, response.json()["detail"]) == (
        404, "no records of this subject here")


@pytest.fixture(scope="module")
def lender() -> Iterator[tuple[str, bytes]]:
    with served_loan_story() as site:
        yield site


@pytest.mark.parametrize("key", [DEV_REGULATOR_API_KEY, DEV_PLATFORM_API_KEY])
def test_a_loans_timeline_shows_its_refusal_and_verifies_with_the_loan(
        lender: tuple[str, bytes], key: str) -> None:
    url, loan_id = lender
    response = httpx.get(f"{url}/v1/loans/0x{loan_id.hex()}/timeline",
                         headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    doc = response.json()
    assert "Refusal" in [e["record"]["type"] for e in doc["entries"]]
    verdict = httpx.post(f"{url}/v1/verify/timeline", json=doc).json()
    assert verdict["verified"] is True, verdict["reason"]
    assert verdict["loan"]["outcome"] == "passed"


def test_a_loans_timeline_with_its_refusal_dropped_does_not_verify(
        lender: tuple[str, bytes]) -> None:
    url, loan_id = lender
    doc = httpx.get(f"{url}/v1/loans/0x{loan_id.hex()}/timeline",
                    headers={"X-API-Key": DEV_REGULATOR_API_KEY}).json()
    doc["entries"] = [e for e in doc["entries"] if e["record"]["type"] != "Refusal"]
    verdict = httpx.post(f"{url}/v1/verify/timeline", json=doc).json()
    assert verdict["verified"] is False
    completeness = verdict["completeness"]
    assert completeness["outcome"] == "failed"
    assert completeness["detail"] == (
        "the contract attested 1 refusal of this subject, the timeline holds 0: "
        "1 refusal is missing")
    assert completeness["expected"].startswith("1 refusal, head 0x")
    assert completeness["actual"] == "0 refusals, head 0x" + "00" * 32
    assert verdict["reason"].startswith("completeness: the contract attested 1 refusal")


def test_an_unknown_loan_has_no_timeline(lender: tuple[str, bytes]) -> None:
    url, _ = lender
    response = httpx.get(f"{url}/v1/loans/0x{'ab' * 32}/timeline",
                         headers={"X-API-Key": DEV_REGULATOR_API_KEY})
    assert (response.status_code, response.json()["detail"]) == (
        404, f"this ledger holds no loan 0x{'ab' * 32}")
