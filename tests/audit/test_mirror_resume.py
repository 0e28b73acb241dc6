"""The mirror: an interrupted download resumes where it stopped, and the next audit fetches
only what is new (full tiles never again; partial tiles a wider one replaced are removed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.audit.mirror import Mirror
from ledger.audit.report import ServerUnreachableError
from ledger.chain.client import RpcChain
from tests.audit.conftest import audit
from tests.support.audit_log import ServedLog, grow, served_log, tile_files


@pytest.fixture
def small_log(anvil_url: str, tmp_path: Path) -> Iterator[ServedLog]:
    with served_log(RpcChain(anvil_url), tmp_path, sizes=(300,)) as served:
        yield served


class CountingTransport(httpx.HTTPTransport):
    """Counts tile requests; the connection drops at tile request `fail_at` (1-based)."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.fail_at, self.tiles = fail_at, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/tile/" in request.url.path:
            self.tiles += 1
            if self.tiles == self.fail_at:
                raise httpx.ConnectError("connection dropped", request=request)
        return super().handle_request(request)


def test_an_interrupted_download_resumes_with_what_is_missing(
    small_log: ServedLog, tmp_path: Path
) -> None:
    folder = tmp_path / "mirror"
    interrupted = CountingTransport(fail_at=3)
    with pytest.raises(ServerUnreachableError, match="does not answer"):
        audit(small_log, folder, transport=interrupted)
    kept = len(tile_files(_mirror(small_log, folder)))
    assert 0 < kept < 5  # the tiles fetched before the drop, each whole
    resumed = CountingTransport()
    report = audit(small_log, folder, transport=resumed)
    assert report.verified, report.to_json()
    assert resumed.tiles == 5 - kept == report.summary["tiles"]["fetched"]
    assert report.summary["tiles"]["reused"] == kept


def test_the_next_audit_fetches_only_what_is_new(small_log: ServedLog, tmp_path: Path) -> None:
    folder = tmp_path / "mirror"
    first = audit(small_log, folder)
    assert first.verified and first.summary["auditedSize"] == 306
    assert first.summary["tiles"]["fetched"] == 5  # tile/0/000, 0/001.p/50, 1/000.p/1, bundles
    grow(small_log.ledger, 100, 20, "later")
    counting = CountingTransport()
    second = audit(small_log, folder, transport=counting)
    assert second.verified, second.to_json()
    assert second.summary["auditedSize"] == 406
    assert counting.tiles == second.summary["tiles"]["fetched"] == 2  # the two partial tiles
    assert second.summary["tiles"]["removed"] == 2  # their narrower predecessors
    assert [t.path for t in tile_files(_mirror(small_log, folder))] == [
        "tile/0/000", "tile/0/001.p/150", "tile/1/000.p/1", "tile/entries/000",
        "tile/entries/001.p/150"]


def test_from_size_reads_only_later_records_but_checks_every_head(
    small_log: ServedLog, tmp_path: Path
) -> None:
    report = audit(small_log, tmp_path / "mirror", from_size=300)
    assert report.verified, report.to_json()
    assert report.summary["fromSize"] == 256
    assert report.summary["records"]["checked"] == 306 - 256
    assert report.summary["heads"]["checked"] == 2
    assert report.summary["tiles"]["fetched"] == 4  # no tile/entries/000


def _mirror(log: ServedLog, folder: Path) -> Mirror:
    return Mirror(folder / log.platform)
