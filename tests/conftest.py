"""Shared fixtures: chains (embedded and anvil, one suite for both), settings, ledgers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import ledger  # noqa: F401 - sets the fast keccak backend before eth-hash loads
from ledger.chain.client import ChainClient, EmbeddedChain, RpcChain
from ledger.config import Settings
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from tests.support.anvil import running_anvil

CHAIN_KINDS = ["embedded", "anvil"]

# The shared suite runs on an automining anvil, where no block follows a round's last anchor:
# there, anchors count as final at once. Confirmation depth, reorgs and lost blocks are tested
# in tests/anchoring, which set their own depth. Subprocesses (serve, the CLI) inherit this.
os.environ.setdefault("BINDLEDGER_CONFIRMATIONS", "0")


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    with running_anvil() as url:
        yield url


@pytest.fixture(params=CHAIN_KINDS)
def chain(request: pytest.FixtureRequest) -> ChainClient:
    """Every test that takes `chain` runs once on eth-tester and once on anvil."""
    if request.param == "embedded":
        return EmbeddedChain()
    return RpcChain(request.getfixturevalue("anvil_url"))


@pytest.fixture
def settings(chain: ChainClient) -> Settings:
    return Settings(chain="embedded" if chain.embedded else chain.url)  # type: ignore[attr-defined]


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    s = SqliteStore(":memory:")
    yield s
    s.close()


@pytest.fixture
def ledger_(settings: Settings, chain: ChainClient, store: SqliteStore) -> Ledger:
    """A ledger with a freshly deployed contract on `chain`."""
    return open_ledger(settings, chain=chain, store=store)
