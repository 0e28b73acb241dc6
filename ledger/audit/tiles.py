"""Tile math and encodings of the C2SP tlog-tiles layout, shared by the server and the auditor.

A log of `size` leaves is served as tiles of TILE_WIDTH hashes. The hash tile at level L and
index N holds the hashes of the complete subtrees of 256^L leaves numbered [256N, 256N + W) at
tree height 8L (level 0: the leaf hashes); W is 256 for a full tile and 1..255 for the
rightmost, partial one. The entry bundle of index N holds the entries of leaves
[256N, 256N + W). Paths (https://c2sp.org/tlog-tiles):

    tile/<L>/<N>[.p/<W>]          a hash tile: W hashes of 32 bytes, concatenated
    tile/entries/<N>[.p/<W>]      an entry bundle

where <N> is written in groups of three decimal digits, all but the last prefixed with "x"
(1234067 is x001/x234/067). A tile's content is fixed by its path, full or partial: it never
changes once the log has grown that far.

BindLedger's entries: each is the stored record, the canonical JSON of the platform-signed
record (UTF-8, compact, keys sorted, `signature` included; keyed references only), and a
bundle is the sequence of its entries each preceded by its length as a big-endian uint16, as
tlog-tiles' entry bundles are. The leaf of an entry is its record hash (the EIP-712 digest,
recomputed from the entry), so its leaf hash is SHA-256(0x00 || record hash).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ledger.errors import LedgerValueError

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
HASH_SIZE = 32
MAX_LEVEL = 63
# An entry's length is a uint16: a record's canonical JSON is at most a few tens of kilobytes
# (a refusal carries two byte strings of at most 8 KB, hex-encoded).
MAX_ENTRY_BYTES = 0xFFFF
ENTRIES = "entries"

_NODE_PREFIX = b"\x01"
_LEAF_PREFIX = b"\x00"
_sha256 = hashlib.sha256
_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([0-9]{1,3}))?")


class TilePathError(LedgerValueError):
    """A path is not a tile path of the tlog-tiles layout (or names a width out of range)."""


class EntryBundleError(LedgerValueError):
    """An entry bundle's bytes do not split into length-prefixed entries as expected."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, order=True)
class Tile:
    """One tile: `level` is None for an entry bundle; `width` is TILE_WIDTH when full."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise TilePathError(f"tile level must be 0 to {MAX_LEVEL}, got {self.level}")
        if self.index < 0:
            raise TilePathError(f"tile index must be >= 0, got {self.index}")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TilePathError(f"tile width must be 1 to {TILE_WIDTH}, got {self.width}")

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level is None

    @property
    def path(self) -> str:
        level = ENTRIES if self.level is None else str(self.level)
        partial = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{partial}"

    @property
    def first_leaf(self) -> int:
        """The first leaf this tile covers (of its hashes' subtrees, or its entries)."""
        return self.index * TILE_WIDTH << (TILE_HEIGHT * (self.level or 0))

    def byte_size(self) -> int:
        """The exact size of a hash tile; requires a hash tile."""
        assert self.level is not None
        return self.width * HASH_SIZE

    def __str__(self) -> str:
        return self.path


def encode_index(index: int) -> str:
    """The tlog-tiles path form of a tile index: 1234067 -> x001/x234/067, 5 -> 005."""
    digits = str(index)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def parse_path(path: str) -> Tile:
    """The tile a tlog-tiles path names (without a leading slash); raises TilePathError.

    Only the canonical spelling is accepted (no superfluous leading zero groups), so every tile
    has exactly one path.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise TilePathError(f"{path!r:.100} is not a tile path (tile/<L>/<N>[.p/<W>])")
    level_text, index_text, width_text = match.groups()
    index = int(index_text.replace("x", "").replace("/", ""))
    if encode_index(index) != index_text:
        raise TilePathError(f"{path!r:.100}: the index is not written canonically")
    width = TILE_WIDTH
    if width_text is not None:
        width = int(width_text)
        if not 1 <= width < TILE_WIDTH or str(width) != width_text:
            raise TilePathError(f"{path!r:.100}: a partial tile's width must be 1 to 255")
    level = None if level_text == ENTRIES else int(level_text)
    return Tile(level, index, width)


def hashes_at(size: int, level: int) -> int:
    """How many hashes level `level` of a tree of `size` leaves holds (complete subtrees of
    256^level leaves)."""
    return size >> (TILE_HEIGHT * level)


def tiles_at(size: int, level: int | None) -> list[Tile]:
    """The tiles of one level (None: the entry bundles) of a tree of `size` leaves: every full
    tile, then the partial one if the level's count is not a multiple of 256."""
    count = hashes_at(size, level or 0)
    full, rest = divmod(count, TILE_WIDTH)
    tiles = [Tile(level, n) for n in range(full)]
    if rest:
        tiles.append(Tile(level, full, rest))
    return tiles


def levels_of(size: int) -> int:
    """How many hash-tile levels a tree of `size` leaves has (0 for the empty tree)."""
    level = 0
    while hashes_at(size, level):
        level += 1
    return level


def all_tiles(size: int) -> list[Tile]:
    """Every tile of a tree of `size` leaves: the hash tiles of each level, then the bundles."""
    tiles = [t for level in range(levels_of(size)) for t in tiles_at(size, level)]
    return tiles + tiles_at(size, None)


def available(tile: Tile, size: int) -> bool:
    """Whether a tree of `size` leaves holds everything `tile` covers (so it may be served)."""
    return (tile.index * TILE_WIDTH + tile.width) <= hashes_at(size, tile.level or 0)


# -- hashes -------------------------------------------------------------------------------------


def leaf_hash(record_hash: bytes) -> bytes:
    """RFC 9162's leaf hash of a record hash: SHA-256(0x00 || record hash)."""
    return _sha256(_LEAF_PREFIX + record_hash).digest()


def split_hashes(data: bytes) -> list[bytes]:
    """A hash tile's bytes as its list of 32-byte hashes. Requires a multiple of 32 bytes."""
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """MTH over a run of sibling hashes of one height, as RFC 9162 folds them: the root of the
    subtree they span (for 256 hashes of a full tile: the hash one level of tiles up).
    Requires at least one hash."""
    row = list(hashes)
    while len(row) > 1:
        k = 1 << ((len(row) - 1).bit_length() - 1)
        if k * 2 == len(row):
            row = [_sha256(_NODE_PREFIX + row[i] + row[i + 1]).digest()
                   for i in range(0, len(row), 2)]
        else:
            return _sha256(_NODE_PREFIX + subtree_root(row[:k]) + subtree_root(row[k:])).digest()
    return row[0]


def next_level(hashes: Sequence[bytes]) -> list[bytes]:
    """The hashes of the level of tiles above: one per complete run of 256 in `hashes`."""
    return [subtree_root(hashes[i : i + TILE_WIDTH])
            for i in range(0, len(hashes) - TILE_WIDTH + 1, TILE_WIDTH)]


def tile_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of hashes a tiled log serves, computed from its leaf hashes: level 0 is the
    leaf hashes, level L + 1 the roots of full runs of 256 hashes of level L."""
    levels = [list(leaf_hashes)]
    while len(levels[-1]) >= TILE_WIDTH:
        levels.append(next_level(levels[-1]))
    return levels


def root_from_levels(levels: Sequence[Sequence[bytes]], size: int) -> bytes:
    """MTH(D[0:size]) from the tile levels (as `tile_levels` returns them): RFC 9162's
    recursion, reading a complete subtree of 256^L leaves from level L instead of hashing it
    again. Requires 0 <= size <= len(levels[0])."""
    if size == 0:
        return _sha256(b"").digest()
    return _range_root(levels, 0, size)


def _range_root(levels: Sequence[Sequence[bytes]], start: int, end: int) -> bytes:
    width = end - start
    if width & (width - 1) == 0:  # a complete subtree, aligned as every RFC 9162 node is
        height = width.bit_length() - 1
        level, rest = divmod(height, TILE_HEIGHT)
        if rest == 0:
            return levels[level][start >> height]
        half = width >> 1
        return _sha256(_NODE_PREFIX + _range_root(levels, start, start + half)
                       + _range_root(levels, start + half, end)).digest()
    k = 1 << ((width - 1).bit_length() - 1)
    return _sha256(_NODE_PREFIX + _range_root(levels, start, start + k)
                   + _range_root(levels, start + k, end)).digest()


# -- entry bundles ------------------------------------------------------------------------------


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries, each preceded by its length as a big-endian uint16."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise EntryBundleError(
                f"an entry of {len(entry)} bytes does not fit a uint16 length", len(out)
            )
        out += len(entry).to_bytes(2, "big")
        out += entry
    return bytes(out)


def iter_bundle(data: bytes) -> Iterator[bytes]:
    """The entries of a bundle, in order; raises EntryBundleError (with the byte offset) when an
    entry runs past the end."""
    offset, end = 0, len(data)
    while offset < end:
        if offset + 2 > end:
            raise EntryBundleError(f"a length prefix is cut off at byte {offset}", offset)
        length = int.from_bytes(data[offset : offset + 2], "big")
        start = offset + 2
        if start + length > end:
            raise EntryBundleError(
                f"the entry at byte {offset} claims {length} bytes; {end - start} remain", offset
            )
        yield data[start : start + length]
        offset = start + length


def decode_bundle(data: bytes) -> list[bytes]:
    """Every entry of a bundle; raises EntryBundleError."""
    return list(iter_bundle(data))
