"""A ledger served over HTTP whose JSON-RPC node has gone away.

A fresh anvil is started under a URL that carries secrets the way node providers put them (user
info and an `apikey` query); records are written and anchored, their proof bundle and timeline
fetched; then anvil is stopped while the API keeps running. Tests check what clients, logs and
errors say then: never the secrets, and never a conclusion about the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from api.main import create_app
from ledger.chain.client import RpcChain
from ledger.config import Settings
from ledger.core.bundle import ProofBundle
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from ledger.verify import verify_bundle
from tests.support.anvil import running_anvil
from tests.support.api import API_KEY_A, TWO_PLATFORMS, VERIFICATION, client
from tests.support.server import serving

# What must never appear anywhere a person or a client reads.
SECRETS = ("pw-z9Q7k3", "apikey", "k3y-5ecr3t-777")


def with_secrets(url: str) -> str:
    """`url` (http://127.0.0.1:port) with user info and an API key in its query: anvil ignores
    both and answers as usual."""
    return url.replace("http://", "http://operator:pw-z9Q7k3@") + "/?apikey=k3y-5ecr3t-777"


def leaks(text: str) -> list[str]:
    """The secrets of with_secrets() that `text` contains."""
    return [s for s in SECRETS if s in text]


@dataclass(frozen=True)
class DownSite:
    url: str  # the API's base URL
    ledger: Ledger
    node: str  # the stopped node, redacted: http://127.0.0.1:port
    secret_url: str  # the stopped node's full URL, as configured
    record_id: int
    bundle: dict[str, Any]
    timeline: dict[str, Any]


@contextmanager
def site_with_node_down() -> Iterator[DownSite]:
    with ExitStack() as node, ExitStack() as api:
        plain = node.enter_context(running_anvil())
        secret_url = with_secrets(plain)
        chain = RpcChain(secret_url)
        settings = Settings(chain=secret_url, platforms=TWO_PLATFORMS)
        ledger = open_ledger(settings, chain=chain, store=SqliteStore(":memory:"))
        url = api.enter_context(serving(create_app(settings, ledger, run_worker=False)))
        with client(url, API_KEY_A) as a:
            created = a.post("/v1/records", json=VERIFICATION)
            assert created.status_code == 201, created.text
            record_id, subject = created.json()["id"], created.json()["subject"]
            assert a.post("/v1/anchor").status_code == 200
            bundle = a.get(f"/v1/records/{record_id}/proof").json()
            timeline = a.get(f"/v1/subjects/{subject}/timeline").json()
        # Checked here, not through the API, whose cache of passed anchor checks would answer
        # for the stopped node for a few seconds.
        assert verify_bundle(ProofBundle.from_json(bundle), chain).verified
        node.close()  # the node stops; the API goes on
        yield DownSite(url, ledger, plain, secret_url, record_id, bundle, timeline)
        ledger.store.close()  # type: ignore[attr-defined]
