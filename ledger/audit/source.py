"""The server's side of the tiled log: tiles and checkpoints of one platform's log, built from
the store (record hashes and stored records), never beyond the latest FINAL anchored head."""

from __future__ import annotations

from ledger.audit.checkpoint import Checkpoint
from ledger.audit.tiles import Tile, available, encode_bundle, tiles_at
from ledger.config import Platform
from ledger.core.bundle import AnchorRef
from ledger.core.merkle import MerkleLog
from ledger.errors import LedgerLookupError, LedgerStateError
from ledger.service import Ledger
from ledger.store.base import AnchorState, HeadRow

FULL_TILE_CACHE = "private, max-age=31536000, immutable"
# A partial tile's content is as fixed as a full one's, but it is soon superseded by a wider
# one: kept briefly, so a client polling the log sees the next width.
PARTIAL_TILE_CACHE = "private, max-age=60"
CHECKPOINT_CACHE = "no-store"


class LogNotFoundError(LedgerLookupError):
    """No such log here for this caller: an unknown platform, or another platform's log."""


class TileNotFoundError(LedgerLookupError):
    """The tile reaches beyond the latest final anchored head (or is none of the layout)."""


class LogGapError(LedgerStateError):
    """The store lacks records inside the anchored part of the log: it cannot be served."""


def final_head(ledger: Ledger, platform: str) -> HeadRow | None:
    return ledger.store.latest_head(platform, AnchorState.FINAL)


def checkpoint(ledger: Ledger, platform: Platform) -> Checkpoint:
    head = final_head(ledger, platform.address)
    if head is None:
        return Checkpoint(platform.address, 0, MerkleLog().root(), None)
    assert head.tx_hash is not None and head.block_number is not None
    assert head.block_hash is not None and head.block_time is not None
    anchor = AnchorRef(
        chain_id=head.chain_id or ledger.chain.chain_id,
        contract=head.contract or ledger.contract.address,
        platform=platform.address,
        tx_hash=head.tx_hash,
        block_number=head.block_number,
        block_hash=head.block_hash,
        block_time=head.block_time,
    )
    return Checkpoint(platform.address, head.tree_size, head.root_hash, anchor)


def tile_bytes(ledger: Ledger, platform: Platform, tile: Tile) -> bytes:
    """The content of `tile` of the platform's log; raises TileNotFoundError unless the latest
    final anchored head covers all of it."""
    head = final_head(ledger, platform.address)
    size = head.tree_size if head is not None else 0
    if not available(tile, size):
        raise TileNotFoundError(
            f"{tile.path} is beyond the anchored log (size {size}); "
            f"its tiles there: {', '.join(t.path for t in tiles_at(size, tile.level)[-1:]) or 'none'}"
        )
    start = tile.index * 256
    end = start + tile.width
    if tile.level is None:
        rows = ledger.store.records_in_range(platform.address, start, end)
        if [r.leaf_index for r in rows] != list(range(start, end)):
            raise LogGapError(f"the store lacks records of leaves [{start}, {end})")
        return encode_bundle([row.body.encode() for row in rows])
    log = ledger.merkle_log(platform.address)
    return b"".join(log.subtree_hashes(8 * tile.level, start, end))


def cache_control(tile: Tile) -> str:
    return FULL_TILE_CACHE if tile.full else PARTIAL_TILE_CACHE
