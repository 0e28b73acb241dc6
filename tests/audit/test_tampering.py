"""A log altered anywhere fails the audit, and the failure names where: a stored record
changed, a leaf dropped, two leaves swapped, a head re-rooted, a byte changed in any file of
the mirror or in any tile the server serves."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ledger.audit.mirror import HEADS_FILE, Mirror
from ledger.audit.report import AuditCheck, AuditReport
from ledger.audit.tiles import TILE_WIDTH, parse_path
from tests.audit.conftest import audit
from tests.support.audit_log import ServedLog, forge, mirrored_entries, tile_files

SIZE = 606  # the log: the loan story (6 records), then heads at 206, 506 and 606
HEADS = [6, 206, 506, 606]


def mirror_of(log: ServedLog, folder: Path) -> Mirror:
    return Mirror(folder / log.platform)


def failed_at(report: AuditReport, check: AuditCheck) -> list[tuple[int | None, str | None,
                                                                    int | None]]:
    return [(f.leaf, f.tile, f.head) for f in report.failures.kept if f.check is check]


def head_covering(leaf: int) -> int:
    return next(i for i, size in enumerate(HEADS) if leaf < size)


@contextmanager
def altered_row(log: ServedLog, sql: str, args: tuple[object, ...], undo: str,
                undo_args: tuple[object, ...]) -> Iterator[None]:
    """The server's database altered behind its back, and restored afterwards."""
    with sqlite3.connect(log.db) as db:
        db.execute(sql, args)
    try:
        yield
    finally:
        with sqlite3.connect(log.db) as db:
            db.execute(undo, undo_args)


def test_a_stored_record_changed_is_named_by_its_leaf(log: ServedLog, tmp_path: Path) -> None:
    leaf = 300
    row = log.ledger.store.records_in_range(log.platform, leaf, leaf + 1)[0]
    changed = row.body.replace('"timestamp":', '"timestamp":1', 1)
    update = "UPDATE records SET body = ? WHERE id = ?"
    with altered_row(log, update, (changed, row.id), update, (row.body, row.id)):
        report = audit(log, tmp_path / "fresh")
    assert not report.verified
    assert (leaf, "tile/0/001", None) in failed_at(report, AuditCheck.LEAF)
    assert (leaf, "tile/entries/001", None) in failed_at(report, AuditCheck.SIGNATURE)
    assert [h for _, _, h in failed_at(report, AuditCheck.HEAD)] == [2, 3]
    assert report.verdict().startswith("NOT VERIFIED")


def test_a_dropped_leaf_is_found(log: ServedLog, mirror_copy: Path) -> None:
    mirror = mirror_of(log, mirror_copy)
    entries = mirrored_entries(mirror, SIZE)
    dropped = 250
    forge(mirror, SIZE, entries[:dropped] + entries[dropped + 1 :], log.ledger.domain)
    report = audit(log, mirror_copy)
    assert not report.verified
    # The first head over the dropped leaf is the first whose root differs.
    assert failed_at(report, AuditCheck.HEAD)[0] == (None, None, head_covering(dropped))
    # Its subject's next record (20 leaves on, one nearer now) no longer follows the chain.
    assert (dropped + 19, "tile/entries/001", None) in failed_at(report, AuditCheck.CHAIN)
    # And the last bundle is one entry short.
    assert (SIZE - 1, "tile/entries/002.p/94", None) in failed_at(report, AuditCheck.ENTRY)


def test_two_swapped_leaves_are_found(log: ServedLog, mirror_copy: Path) -> None:
    mirror = mirror_of(log, mirror_copy)
    entries = mirrored_entries(mirror, SIZE)
    first, second = 250, 270  # one subject's records, 20 leaves apart
    entries[first], entries[second] = entries[second], entries[first]
    forge(mirror, SIZE, entries, log.ledger.domain)
    report = audit(log, mirror_copy)
    assert not report.verified
    assert failed_at(report, AuditCheck.HEAD)[0][2] == head_covering(first)
    assert (first, "tile/entries/000", None) in failed_at(report, AuditCheck.CHAIN)


def test_a_head_re_rooted_in_the_mirror_is_named(log: ServedLog, mirror_copy: Path) -> None:
    path = mirror_of(log, mirror_copy).root / HEADS_FILE
    heads = json.loads(path.read_text())
    heads[2]["root"] = "0x" + "00" * 32
    path.write_text(json.dumps(heads))
    report = audit(log, mirror_copy)
    assert failed_at(report, AuditCheck.MIRROR) == [(None, None, 2)]


def test_a_head_re_rooted_in_the_served_checkpoint_is_named(
    log: ServedLog, tmp_path: Path
) -> None:
    update = "UPDATE heads SET root_hash = ? WHERE platform = ? AND tree_size = ?"
    root = log.ledger.merkle_log(log.platform).root(SIZE)
    with altered_row(log, update, (bytes(32), log.platform, SIZE), update,
                     (root, log.platform, SIZE)):
        report = audit(log, tmp_path / "fresh")
    assert failed_at(report, AuditCheck.CHECKPOINT) == [(None, None, 3)]


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def names(report: AuditReport, path: str) -> bool:
    """Whether a failure names the tile at `path`, or a leaf the tile covers."""
    tile = parse_path(path)
    span = TILE_WIDTH << (8 * (tile.level or 0))
    first = tile.index * span
    return any(f.tile == path or (f.leaf is not None and first <= f.leaf < first + span
                                  and f.tile is not None and f.tile.endswith(
                                      path.split("/", 2)[2]))
               for f in report.failures.kept)


def test_a_byte_changed_anywhere_in_the_mirror_is_named(
    log: ServedLog, mirrored: Path, tmp_path: Path
) -> None:
    import shutil

    files = tile_files(mirror_of(log, mirrored))
    assert len(files) == 7  # three level-0 tiles, one level-1 tile, three bundles
    chance = random.Random(14)
    for round_ in range(12):
        folder = Path(shutil.copytree(mirrored, tmp_path / f"m{round_}"))
        mirror = mirror_of(log, folder)
        tile = files[round_ % len(files)]
        data = mirror.read(tile)
        position = chance.randrange(len(data))
        mirror.write(tile, flip(data, position))
        report = audit(log, folder)
        assert not report.verified, (tile.path, position)
        assert names(report, tile.path), (tile.path, position, report.to_json()["failures"])


class FlippingTransport(httpx.HTTPTransport):
    """A server that changes one byte of one tile it serves."""

    def __init__(self, path: str, position: int) -> None:
        super().__init__()
        self.path, self.position = path, position

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith("/" + self.path):
            return response
        content = flip(response.read(), self.position)
        return httpx.Response(response.status_code, headers=response.headers, content=content)


@pytest.mark.parametrize(("path", "position"), [
    ("tile/0/000", 5), ("tile/0/002.p/94", 93 * 32), ("tile/1/000.p/2", 40),
    ("tile/entries/000", 1), ("tile/entries/001", 4000), ("tile/entries/002.p/94", 9999),
])
def test_a_byte_changed_in_a_served_tile_is_named(
    log: ServedLog, tmp_path: Path, path: str, position: int
) -> None:
    report = audit(log, tmp_path / "fresh", transport=FlippingTransport(path, position))
    assert not report.verified
    assert names(report, path), report.to_json()["failures"]
