"""Fixtures of the API tests: the FastAPI app served by uvicorn on a loopback port, with two
platforms, on each chain; clients speak real HTTP to it.

Two kinds of server:
- `api_url` (one per test): a fresh ledger (`ledger_`), for tests whose outcome depends on
  what was written before (leaf indexes, hash chains, anchoring).
- `shared` (one per chain for the whole package): a ledger holding one anchored record per
  platform, for the many tests that only send input that must be refused, and for the fuzz
  tests (hypothesis refuses function-scoped fixtures).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.budget import VerifyBudget
from api.main import create_app
from ledger.chain.client import ChainClient, EmbeddedChain, RpcChain
from ledger.config import Settings
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from tests.conftest import CHAIN_KINDS
from tests.support.api import API_KEY_A, API_KEY_B, TWO_PLATFORMS, VERIFICATION, client
from tests.support.server import serving


def settings_for(chain: ChainClient, **overrides: Any) -> Settings:
    url = "embedded" if chain.embedded else chain.url  # type: ignore[attr-defined]
    return Settings(chain=url, platforms=TWO_PLATFORMS, **overrides)


@pytest.fixture
def settings(chain: ChainClient) -> Settings:
    """Overrides tests/conftest.py: the API tests need two platforms."""
    return settings_for(chain)


@pytest.fixture
def api_url(settings: Settings, ledger_: Ledger) -> Iterator[str]:
    with serving(create_app(settings, ledger_, run_worker=False)) as url:
        yield url


@pytest.fixture
def api_a(api_url: str) -> Iterator[httpx.Client]:
    """Platform A's client."""
    with client(api_url, API_KEY_A) as c:
        yield c


@pytest.fixture
def api_b(api_url: str) -> Iterator[httpx.Client]:
    """Platform B's client."""
    with client(api_url, API_KEY_B) as c:
        yield c


@dataclass(frozen=True)
class Shared:
    url: str
    ledger: Ledger
    record_a: int  # an anchored record of platform A
    record_b: int  # an anchored record of platform B
    bundle: dict[str, Any]  # the proof bundle of record_a


@pytest.fixture(scope="package", params=CHAIN_KINDS)
def shared(request: pytest.FixtureRequest) -> Iterator[Shared]:
    chain: ChainClient = (EmbeddedChain() if request.param == "embedded"
                          else RpcChain(request.getfixturevalue("anvil_url")))
    settings = settings_for(chain)
    ledger = open_ledger(settings, chain=chain, store=SqliteStore(":memory:"))
    # Every test of the package sends its public requests from this one address: a budget that
    # no run of them can spend, whatever the machine's speed (test_verify_budget_api.py tests
    # the budget, and that an ordinary client never meets the default one).
    unmetered = VerifyBudget(rate=1e9, burst=10**9, max_timeline_entries=500)
    with serving(create_app(settings, ledger, run_worker=False, budget=unmetered)) as url:
        with client(url, API_KEY_A) as a, client(url, API_KEY_B) as b:
            ids = []
            for c in (a, a, b):
                response = c.post("/v1/records", json=VERIFICATION)
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            for c in (a, b):
                assert c.post("/v1/anchor").status_code == 200
            bundle = a.get(f"/v1/records/{ids[0]}/proof").json()
        yield Shared(url, ledger, ids[0], ids[2], bundle)
    ledger.store.close()  # type: ignore[attr-defined]


@pytest.fixture
def shared_a(shared: Shared) -> Iterator[httpx.Client]:
    """Platform A's client of the shared server."""
    with client(shared.url, API_KEY_A) as c:
        yield c


@pytest.fixture
def subject_id() -> str:
    """A borrower no other test writes about, so tests sharing a server stay independent."""
    return f"SUBJECT-{uuid.uuid4().hex}"


# Input that must be refused before the ledger touches the chain is refused the same way on
# every chain: tests of such input run on the embedded chain only, to keep the suite fast.
chain_independent = pytest.mark.parametrize("shared", ["embedded"], indirect=True)
