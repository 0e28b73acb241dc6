"""The budget of the public verification routes (api/budget.py): per request, a bounded
timeline and proof path; per client without a key, a token bucket of checks (429 with
Retry-After when spent). A client with a key, and an ordinary client without one, never meet
it. Time is a clock the tests move: nothing sleeps."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import HTTPException

from api.budget import MAX_CLIENTS, VerifyBudget, VerifyBudgetSettings
from api.main import create_app
from ledger.core.bundle import MAX_PATH_LENGTH
from tests.api.conftest import Shared, chain_independent, settings_for
from tests.support.api import API_KEY_A, VERIFICATION, client, ledger_error
from tests.support.server import serving


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Site:
    url: str
    clock: Clock
    bundle: dict[str, Any]
    timeline: dict[str, Any]  # platform A's subject's: two entries


@pytest.fixture
def site_of(shared: Shared, subject_id: str) -> Iterator[Any]:
    """Serves the shared ledger with a budget of the test's choosing; its timeline is that of
    a subject of two records, written for the test."""
    with client(shared.url, API_KEY_A) as a:
        for _ in range(2):
            written = a.post("/v1/records", json={**VERIFICATION, "subjectId": subject_id})
            assert written.status_code == 201, written.text
        assert a.post("/v1/anchor").status_code == 200
        timeline = a.get(f"/v1/subjects/{written.json()['subject']}/timeline").json()
    assert len(timeline["entries"]) == 2, timeline

    def serve(**limits: Any) -> Iterator[Site]:
        clock = Clock()
        budget = VerifyBudget(clock=clock, **limits)
        app = create_app(settings_for(shared.ledger.chain), shared.ledger, run_worker=False,
                         budget=budget)
        with serving(app) as url:
            yield Site(url, clock, shared.bundle, timeline)

    yield serve


@pytest.fixture
def tight(site_of: Any) -> Iterator[Site]:
    """Three checks at once, one more a second; timelines of at most three entries."""
    yield from site_of(rate=1.0, burst=3, max_timeline_entries=3)


def verify(site: Site, key: str | None = None) -> httpx.Response:
    with client(site.url, key) as c:
        return c.post("/v1/verify", json=site.bundle)


@chain_independent
def test_a_client_without_a_key_may_spend_its_burst_then_gets_429_with_retry_after(
        tight: Site) -> None:
    assert [verify(tight).status_code for _ in range(3)] == [200, 200, 200]
    refused = verify(tight)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert (body["status"], body["title"], body["error"]) == (
        429, "Too Many Requests", "TooManyRequests")
    assert body["detail"] == (
        "verification budget spent: this request needs 1 check, this client has 0 of 3 "
        "(refilled at 1 a second); retry after 1 s, or verify offline with `bindledger verify`")


@chain_independent
def test_the_bucket_refills_at_its_rate(tight: Site) -> None:
    for _ in range(3):
        verify(tight)
    assert verify(tight).status_code == 429
    tight.clock.now += 1.0
    assert verify(tight).status_code == 200  # one check came back, and is spent
    assert verify(tight).status_code == 429
    tight.clock.now += 10.0  # never more than the burst
    assert [verify(tight).status_code for _ in range(4)] == [200, 200, 200, 429]


@chain_independent
def test_a_caller_with_a_key_is_not_metered(tight: Site) -> None:
    for _ in range(3):
        verify(tight)
    assert verify(tight).status_code == 429
    assert [verify(tight, API_KEY_A).status_code for _ in range(5)] == [200] * 5


@chain_independent
def test_a_timeline_costs_one_check_an_entry(tight: Site) -> None:
    with client(tight.url, None) as c:
        assert c.post("/v1/verify/timeline", json=tight.timeline).status_code == 200  # 2 of 3
        assert c.post("/v1/verify", json=tight.bundle).status_code == 200  # the third
        refused = c.post("/v1/verify/timeline", json=tight.timeline)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")


@chain_independent
def test_a_timeline_the_bucket_cannot_pay_for_is_refused_whole(tight: Site) -> None:
    verify(tight)
    verify(tight)  # one check left: a timeline of two needs two
    with client(tight.url, None) as c:
        refused = c.post("/v1/verify/timeline", json=tight.timeline)
    assert refused.status_code == 429
    assert "this request needs 1 check, this client has 0 of 3" in refused.json()["detail"]


@chain_independent
def test_a_timeline_longer_than_one_request_may_check_is_413(site_of: Any) -> None:
    for site in site_of(rate=1.0, burst=3, max_timeline_entries=1):
        with client(site.url, None) as public, client(site.url, API_KEY_A) as a:
            refused = public.post("/v1/verify/timeline", json=site.timeline)
            keyed = a.post("/v1/verify/timeline", json=site.timeline)
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == (
        "the timeline has 2 entries; this route checks at most 1 in one request (verify "
        "longer ones offline with `bindledger verify`)")
    assert keyed.status_code == 200 and keyed.json()["verified"] is True


@chain_independent
def test_a_proof_path_longer_than_any_tree_has_is_422_before_any_check(tight: Site) -> None:
    bundle = copy.deepcopy(tight.bundle)
    bundle["inclusionPath"] = ["0x" + "00" * 32] * (MAX_PATH_LENGTH + 1)
    with client(tight.url, None) as c:
        response = c.post("/v1/verify", json=bundle)
    assert ledger_error(response) == (
        422, "FieldValueError", f"inclusionPath has more than {MAX_PATH_LENGTH} nodes")


@chain_independent
def test_an_ordinary_client_never_meets_the_default_budget(site_of: Any) -> None:
    """A verifier checking a few dozen bundles and a timeline at once, under the defaults."""
    defaults = VerifyBudgetSettings()
    for site in site_of(rate=defaults.rate, burst=defaults.burst,
                        max_timeline_entries=defaults.max_timeline_entries):
        with client(site.url, None) as c:
            answers = [c.post("/v1/verify", json=site.bundle).status_code for _ in range(40)]
            answers.append(c.post("/v1/verify/timeline", json=site.timeline).status_code)
    assert answers == [200] * 41


def test_each_client_address_has_its_own_bucket() -> None:
    clock = Clock()
    budget = VerifyBudget(rate=1.0, burst=2, max_timeline_entries=2, clock=clock)
    budget.spend("192.0.2.1", 2)
    with pytest.raises(HTTPException) as spent:
        budget.spend("192.0.2.1", 1)
    assert spent.value.status_code == 429
    budget.spend("192.0.2.2", 2)  # another client is untouched


def test_a_request_the_bucket_cannot_pay_takes_nothing_from_it() -> None:
    clock = Clock()
    budget = VerifyBudget(rate=1.0, burst=4, max_timeline_entries=4, clock=clock)
    budget.spend("192.0.2.1", 2)
    with pytest.raises(HTTPException) as refused:
        budget.spend("192.0.2.1", 3)
    assert refused.value.headers == {"Retry-After": "1"}
    budget.spend("192.0.2.1", 2)  # the two left are still there


def test_a_flood_of_addresses_keeps_a_bounded_number_of_buckets() -> None:
    budget = VerifyBudget(rate=1.0, burst=2, max_timeline_entries=2, clock=Clock())
    for i in range(MAX_CLIENTS + 1):
        budget.spend(f"10.0.{i // 256}.{i % 256}", 1)
    assert budget.clients == MAX_CLIENTS - MAX_CLIENTS // 10 + 1
    budget.spend(f"10.0.{MAX_CLIENTS // 256}.{MAX_CLIENTS % 256}", 1)  # the latest is kept
    with pytest.raises(HTTPException):
        budget.spend(f"10.0.{MAX_CLIENTS // 256}.{MAX_CLIENTS % 256}", 1)


@pytest.mark.parametrize("limits", [
    {"rate": 0.0, "burst": 10, "max_timeline_entries": 10},
    {"rate": 1.0, "burst": 10, "max_timeline_entries": 11},
    {"rate": 1.0, "burst": 10, "max_timeline_entries": 0},
])
def test_a_budget_that_could_never_pay_is_refused_at_start(limits: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="max_timeline_entries <= burst"):
        VerifyBudget(**limits)


def test_the_budget_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINDLEDGER_VERIFY_RATE", "2.5")
    monkeypatch.setenv("BINDLEDGER_VERIFY_BURST", "40")
    monkeypatch.setenv("BINDLEDGER_VERIFY_MAX_TIMELINE_ENTRIES", "30")
    budget = VerifyBudget.from_env()
    assert (budget.rate, budget.burst, budget.max_timeline_entries) == (2.5, 40, 30)
