"""The C2SP tlog-tiles layout: paths, tile sizes, partial tiles, entry bundles, and tree
hashes read from tiles equal to RFC 9162's (MerkleLog's)."""

from __future__ import annotations

import hashlib

import pytest

from ledger.audit.tiles import (
    EntryBundleError,
    Tile,
    TilePathError,
    all_tiles,
    available,
    decode_bundle,
    encode_bundle,
    encode_index,
    parse_path,
    root_from_levels,
    subtree_root,
    tile_levels,
    tiles_at,
)
from ledger.core.merkle import MerkleLog


@pytest.mark.parametrize(("index", "path"), [
    (0, "000"), (5, "005"), (255, "255"), (1000, "x001/000"), (1234067, "x001/x234/067"),
    (10**9, "x001/x000/x000/000"),
])
def test_a_tile_index_is_written_in_groups_of_three_digits(index: int, path: str) -> None:
    assert encode_index(index) == path


@pytest.mark.parametrize(("tile", "path"), [
    (Tile(0, 0), "tile/0/000"),
    (Tile(0, 1234067, 17), "tile/0/x001/x234/067.p/17"),
    (Tile(2, 3), "tile/2/003"),
    (Tile(None, 7), "tile/entries/007"),
    (Tile(None, 7, 255), "tile/entries/007.p/255"),
])
def test_paths_name_level_index_and_partial_width(tile: Tile, path: str) -> None:
    assert tile.path == path
    assert parse_path(path) == tile


@pytest.mark.parametrize("path", [
    "tile/0/1", "tile/0/0000", "tile/0/x000/001", "tile/0/001.p/0", "tile/0/001.p/256",
    "tile/0/001.p/007", "tile/64/000", "tile/00/000", "tile/entry/000", "tile/0/001/",
    "../tile/0/000", "tile/0/001.p/",
])
def test_anything_but_a_canonical_tile_path_is_refused(path: str) -> None:
    with pytest.raises(TilePathError):
        parse_path(path)


def test_a_log_has_full_tiles_then_one_partial_tile_per_level() -> None:
    size = 256 * 256 * 2 + 256 * 3 + 7  # 131847 leaves
    assert tiles_at(size, 0)[-2:] == [Tile(0, 514), Tile(0, 515, 7)]
    assert len(tiles_at(size, 0)) == 516
    assert tiles_at(size, 1) == [Tile(1, 0), Tile(1, 1), Tile(1, 2, 3)]
    assert tiles_at(size, 2) == [Tile(2, 0, 2)]
    assert tiles_at(size, 3) == []
    assert tiles_at(size, None) == [Tile(None, t.index, t.width) for t in tiles_at(size, 0)]
    assert tiles_at(256, 0) == [Tile(0, 0)] and tiles_at(256, 1) == [Tile(1, 0, 1)]
    assert all_tiles(0) == []


def test_a_tile_is_available_once_the_log_covers_all_of_it() -> None:
    assert available(Tile(0, 0, 10), 10) and not available(Tile(0, 0, 11), 10)
    assert available(Tile(0, 0, 9), 10)  # a narrower partial tile stays what it was
    assert not available(Tile(0, 0), 255) and available(Tile(0, 0), 256)
    assert available(Tile(1, 0, 1), 256) and not available(Tile(1, 0, 2), 511)


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 511, 1000, 65535, 65536, 65537,
                                  70_001])
def test_roots_read_from_tile_levels_are_the_rfc9162_roots(size: int) -> None:
    data = leaves(size)
    log = MerkleLog(data)
    levels = tile_levels([log.leaf_hash_at(i) for i in range(size)])
    for n in {1, size // 3 or 1, size - 1 or 1, size}:
        assert root_from_levels(levels, n) == log.root(n)
    # Each level-1 hash is the root of its 256 leaves: the subtree hash MerkleLog keeps.
    assert levels[1:2] == [] or levels[1] == log.subtree_hashes(8, 0, size >> 8)
    if size >= 65536:
        assert levels[2] == log.subtree_hashes(16, 0, size >> 16)
        assert subtree_root(levels[1][:256]) == log.root(65536)


def test_an_entry_bundle_is_length_prefixed_entries() -> None:
    entries = [b"", b"a", b"{}" * 300, bytes(range(256))]
    data = encode_bundle(entries)
    assert data[:3] == b"\x00\x00\x00" and data[2:5] == b"\x00\x01a"
    assert decode_bundle(data) == entries
    with pytest.raises(EntryBundleError, match="claims 256 bytes") as cut:
        decode_bundle(data[:-1])
    assert cut.value.offset == len(data) - 258
    with pytest.raises(EntryBundleError, match="cut off at byte 0"):
        decode_bundle(b"\x00")
    with pytest.raises(EntryBundleError):
        encode_bundle([bytes(70_000)])
