"""With the JSON-RPC node down, the API concludes nothing it cannot check, and says so.

Verification answers 503 "cannot check: chain unreachable" instead of a verdict; a route that
needs the chain answers 503 naming the node by scheme, host and port only; a rule route never
mistakes the outage for a refusal; writes that need no chain go on. No answer and no log line
carries the node URL's user info, path or query, where providers put their API keys.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import API_KEY_A, BINDING, VERIFICATION, client
from tests.support.chain_down import DownSite, leaks, site_with_node_down


@pytest.fixture(scope="module")
def down() -> Iterator[DownSite]:
    with site_with_node_down() as site:
        yield site


@pytest.fixture
def api_a(down: DownSite) -> Iterator[httpx.Client]:
    with client(down.url, API_KEY_A) as c:
        yield c


def assert_chain_unreachable(response: httpx.Response, down: DownSite, detail: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "ChainUnreachableError"
    assert body["detail"].startswith(detail), body
    assert down.node in body["detail"]
    assert response.headers["Retry-After"].isdigit()
    assert leaks(response.text) == []


def test_verify_answers_503_cannot_check_instead_of_a_verdict(down: DownSite) -> None:
    response = httpx.post(f"{down.url}/v1/verify", json=down.bundle)
    assert "verified" not in response.json()
    assert_chain_unreachable(response, down, "cannot check: chain unreachable")


def test_verify_timeline_answers_503_cannot_check(down: DownSite) -> None:
    response = httpx.post(f"{down.url}/v1/verify/timeline", json=down.timeline)
    assert_chain_unreachable(response, down, "cannot check: chain unreachable")


def test_a_bundle_that_fails_offline_still_cannot_be_checked_without_the_chain(
    down: DownSite,
) -> None:
    """No half verdicts: while the node is down, nothing is concluded, not even a failure."""
    tampered = {**down.bundle, "leafIndex": down.bundle["leafIndex"] + 1}
    response = httpx.post(f"{down.url}/v1/verify", json=tampered)
    assert_chain_unreachable(response, down, "cannot check: chain unreachable")


def test_anchoring_now_answers_503_naming_the_node_without_its_secrets(
    down: DownSite, api_a: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    api_a.post("/v1/records", json=VERIFICATION)
    with caplog.at_level(logging.DEBUG):
        response = api_a.post("/v1/anchor")
    assert_chain_unreachable(response, down, "chain unreachable")
    assert "POST /v1/anchor failed" in caplog.text  # logged, and redacted too
    assert leaks(caplog.text) == []


def test_a_rule_route_reports_the_outage_not_a_refusal(
    down: DownSite, api_a: httpx.Client
) -> None:
    response = api_a.post("/v1/subjects/records", json=BINDING)
    assert_chain_unreachable(response, down, "chain unreachable")
    assert "revert" not in response.text


def test_records_that_need_no_chain_are_still_written(api_a: httpx.Client) -> None:
    response = api_a.post("/v1/records", json=VERIFICATION)
    assert response.status_code == 201, response.text


def test_health_does_not_name_the_node_url(down: DownSite) -> None:
    response = httpx.get(f"{down.url}/healthz")
    assert leaks(response.text) == []


def test_the_openapi_document_names_the_503(down: DownSite) -> None:
    doc = httpx.get(f"{down.url}/openapi.json", headers={"X-API-Key": API_KEY_A}).json()
    answers = doc["paths"]["/v1/verify"]["post"]["responses"]
    assert "503" in answers and "chain unreachable" in answers["503"]["description"]
