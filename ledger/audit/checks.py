"""The audit's checks of the recomputed tree and of subjects' hash chains.

The tree is recomputed from the records' leaf hashes twice over: as the levels a tiled log
serves (ledger.audit.tiles), from which each head's root is read, and as a MerkleLog
(ledger.core.merkle), whose consistency proofs between successive heads are checked with the
RFC 9162 verifier against the roots the contract holds. Equal roots of one log already imply
consistency; the proofs check it by an independent implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ledger.anchors import ChainHead
from ledger.audit.mirror import Mirror
from ledger.audit.report import AuditCheck, Failure, Failures
from ledger.audit.scan import BESIDE, CHAINED, BundleResult
from ledger.audit.tiles import HASH_SIZE, TILE_WIDTH, Tile, leaf_hash, root_from_levels, tiles_at
from ledger.core.merkle import MerkleLog, ProofError, verify_consistency

_ZERO = bytes(HASH_SIZE)


def check_hash_tiles(
    mirror: Mirror, levels: Sequence[Sequence[bytes]], size: int, first_level: int,
    failures: Failures,
) -> int:
    """Compare every hash tile of level >= `first_level` in the mirror with the recomputed
    levels; a difference is named by tile path and the first leaf under the differing hash.
    Returns how many tiles were compared."""
    compared = 0
    for level in range(first_level, len(levels)):
        for tile in tiles_at(size, level):
            data = mirror.read(tile)
            compared += 1
            start = tile.index * TILE_WIDTH
            expected = b"".join(levels[level][start : start + tile.width])
            if data == expected:
                continue
            if len(data) != len(expected):
                failures.add(Failure(
                    AuditCheck.TILE, f"holds {len(data)} bytes; a tile of {tile.width} hashes "
                    f"holds {len(expected)}", tile=tile.path))
                continue
            at = next(i for i in range(tile.width)
                      if data[i * HASH_SIZE : (i + 1) * HASH_SIZE]
                      != expected[i * HASH_SIZE : (i + 1) * HASH_SIZE])
            failures.add(Failure(
                AuditCheck.TILE,
                f"hash {at} of the tile differs from the recomputed subtree hash",
                leaf=(start + at) << (8 * level), tile=tile.path,
                expected=expected[at * HASH_SIZE : (at + 1) * HASH_SIZE].hex(),
                actual=data[at * HASH_SIZE : (at + 1) * HASH_SIZE].hex()))
    return compared


@dataclass(frozen=True)
class HeadCounts:
    checked: int  # heads whose size is within the audited log
    beyond: int  # heads the server's checkpoint does not reach yet


def check_heads(
    heads: Sequence[ChainHead], levels: Sequence[Sequence[bytes]], log: MerkleLog,
    failures: Failures,
) -> HeadCounts:
    """Each head within the log is the recomputed root at its size, and is consistent with the
    head before it (RFC 9162 consistency proof from the recomputed log, verified against the
    two roots the contract holds)."""
    size = log.size
    checked = beyond = 0
    previous: ChainHead | None = None
    for index, head in enumerate(heads):
        if head.size > size:
            beyond += 1
            continue
        checked += 1
        root = root_from_levels(levels, head.size)
        if root != head.root:
            failures.add(Failure(
                AuditCheck.HEAD,
                f"the contract's head of size {head.size} is not the root of the log's first "
                f"{head.size} records: the log differs from the anchored one before leaf "
                f"{head.size}", head=index, expected=head.root.hex(), actual=root.hex()))
        if log.root(head.size) != root:  # two implementations of one tree must agree
            failures.add(Failure(AuditCheck.HEAD, "the recomputed roots disagree", head=index))
        if previous is not None:
            try:
                proof = log.consistency_proof(previous.size, head.size)
                verify_consistency(previous.size, head.size, previous.root, head.root, proof)
            except ProofError as exc:
                failures.add(Failure(
                    AuditCheck.CONSISTENCY,
                    f"head {index - 1} (size {previous.size}) and head {index} (size "
                    f"{head.size}) are not consistent in the recomputed log: {exc}",
                    head=index))
        previous = head
    return HeadCounts(checked, beyond)


@dataclass
class SubjectChains:
    """Follows every subject's hash chain through the log, leaf by leaf, in order.

    A record's `prev` must be the hash of its subject's latest chained record before it (zero
    for the first); a refusal too (it names the head it was judged on) but it does not become
    the head. With `prefix_leaves` (the leaf hashes of a part of the log before the records
    fed here, whose records were not read), a subject's first `prev` may name a record there,
    which can be told only by its leaf hash.
    """

    prefix_leaves: set[bytes] | None = None
    heads: dict[bytes, bytes] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    records: int = 0

    def feed(self, result: BundleResult) -> None:
        first = result.index * TILE_WIDTH
        heads = self.heads
        hashes, subjects, prevs, kinds = (result.record_hashes, result.subjects, result.prevs,
                                          result.kinds)
        for offset, kind in enumerate(kinds):
            if kind != CHAINED and kind != BESIDE:
                continue  # unreadable: reported already
            self.records += 1
            at = offset * HASH_SIZE
            subject = subjects[at : at + HASH_SIZE]
            prev = prevs[at : at + HASH_SIZE]
            expected = heads.get(subject)
            if expected is None and self.prefix_leaves is not None and prev != _ZERO:
                expected = prev if leaf_hash(prev) in self.prefix_leaves else _ZERO
            if prev != (expected or _ZERO):
                self.failures.append(Failure(
                    AuditCheck.CHAIN,
                    "prev is not the hash of the subject's latest record before it: a record "
                    "of the subject is missing, reordered or altered before this one",
                    leaf=first + offset, tile=Tile(None, result.index, result.width).path,
                    expected="0x" + (expected or _ZERO).hex(), actual="0x" + prev.hex()))
            if kind == CHAINED:
                heads[subject] = hashes[at : at + HASH_SIZE]


def chained_records_of(
    results: Iterable[BundleResult], wanted: dict[bytes, bytes]
) -> dict[bytes, int]:
    """Of the record hashes in `wanted` (record hash -> subject), those that are chained records
    of that subject in the log, with their leaf index."""
    found: dict[bytes, int] = {}
    for result in results:
        hashes = result.record_hashes
        for offset, kind in enumerate(result.kinds):
            at = offset * HASH_SIZE
            record_hash = hashes[at : at + HASH_SIZE]
            subject = wanted.get(record_hash)
            if (kind == CHAINED and subject is not None
                    and result.subjects[at : at + HASH_SIZE] == subject):
                found[record_hash] = result.index * TILE_WIDTH + offset
    return found
