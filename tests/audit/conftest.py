"""Fixtures of the audit tests: one log on anvil served over HTTP for the module, and a
mirror of it audited once, which tests copy before they alter it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.audit.fetch import LogClient
from ledger.audit.report import AuditReport
from ledger.audit.run import AuditOptions, run_audit
from ledger.chain.client import RpcChain
from tests.support.audit_log import REGULATOR_API_KEY, ServedLog, served_log


@pytest.fixture(scope="module")
def log(anvil_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedLog]:
    with served_log(RpcChain(anvil_url), tmp_path_factory.mktemp("log")) as served:
        yield served


def audit(log: ServedLog, mirror: Path, transport: httpx.BaseTransport | None = None,
          **options: object) -> AuditReport:
    """An audit of the log's platform by the regulator, into `mirror`, against the contract
    the ledger anchors in (through `transport` to the server, when given)."""
    options.setdefault("contract", log.ledger.contract.address)
    return run_audit(
        AuditOptions(log.platform, log.url, REGULATOR_API_KEY, mirror, **options),  # type: ignore[arg-type]
        log.ledger.chain,
        client_factory=lambda o, p: LogClient(o.server, o.api_key, p, transport=transport),
    )


@pytest.fixture(scope="module")
def mirrored(log: ServedLog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror folder holding the whole log, audited once (and verified)."""
    folder = tmp_path_factory.mktemp("mirror")
    report = audit(log, folder)
    assert report.verified, report.to_json()
    return folder


@pytest.fixture
def mirror_copy(mirrored: Path, tmp_path: Path) -> Path:
    """A copy of the audited mirror, for one test to alter."""
    return Path(shutil.copytree(mirrored, tmp_path / "mirror"))
