"""A real BindLedger server for the client's tests: `bindledger serve` as its own process on
anvil, with the development platform; clients of it signing with the platform's key."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ledger.client import LedgerClient, PlatformKey, References
from ledger.config import DEV_PLATFORM_API_KEY, DEV_PLATFORM_KEY, DEV_REF_SECRET
from tests.support.anvil import free_port, running_anvil

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0


def clean_env(**settings: str) -> dict[str, str]:
    """The environment of a process: no BINDLEDGER_* setting of the test run's but `settings`
    (so the development platform, regulator and reference secret are the server's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDLEDGER_")}
    env["PYTHONPATH"] = str(REPO)
    env.update({f"BINDLEDGER_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def serving(chain: str, database: Path, confirmations: int = 0) -> Iterator[str]:
    """`bindledger serve` on `chain` (deploying its contract) as a subprocess; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port), "--chain", chain,
         "--database", str(database)],
        cwd=REPO, env=clean_env(confirmations=str(confirmations)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    api = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(api):
            if server.poll() is not None:
                stderr = server.stderr.read().decode() if server.stderr else ""
                raise RuntimeError(f"serve exited with {server.returncode}: {stderr[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not answer at {api}")
            time.sleep(0.2)
        yield api
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)
        if server.stderr is not None:
            server.stderr.close()


def _answers(api: str) -> bool:
    try:
        return httpx.get(f"{api}/healthz", timeout=2).status_code in (200, 503)
    except httpx.TransportError:
        return False


@pytest.fixture(scope="package")
def chain_url() -> Iterator[str]:
    """A chain of the client's tests alone: the server anchors on it with the development
    accounts, which tests elsewhere use on the shared node, so it must not share theirs."""
    with running_anvil() as url:
        yield url


@pytest.fixture(scope="package")
def api(chain_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the client's tests, anchors final at once (0 confirmations); it stops
    with the last of them."""
    with serving(chain_url, tmp_path_factory.mktemp("client-server") / "ledger.sqlite3") as url:
        yield url


@pytest.fixture
def platform_key() -> PlatformKey:
    return PlatformKey(DEV_PLATFORM_KEY)


@pytest.fixture
def references() -> References:
    return References(DEV_REF_SECRET)


@pytest.fixture
def client(api: str, platform_key: PlatformKey, references: References) -> Iterator[LedgerClient]:
    """The development platform's client of the server, retrying without waiting long."""
    with LedgerClient(api, DEV_PLATFORM_API_KEY, key=platform_key, references=references) as c:
        yield c
