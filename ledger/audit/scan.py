"""Checking the records of the mirror, bundle by bundle, in worker processes.

Each job is one entry bundle and the level-0 hash tile of the same leaves: every entry is
checked (ledger.audit.records) and its leaf hash compared with the tile's. A job reads its
files itself and returns its results packed into byte strings (32 bytes a leaf), so that a
million records cross the process boundary as a few hundred kilobytes per bundle instead of a
million pickled objects.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

from ledger.audit.mirror import Mirror
from ledger.audit.records import EntryChecker, EntryError
from ledger.audit.report import AuditCheck, Failure
from ledger.audit.tiles import (
    HASH_SIZE,
    TILE_WIDTH,
    EntryBundleError,
    Tile,
    iter_bundle,
    leaf_hash,
)
from ledger.core.records import Domain

# Kinds of leaf in BundleResult.kinds.
CHAINED, BESIDE, UNREADABLE = 0, 1, 2
# Bundles per job: large enough that a job's overhead is small beside its signatures.
BUNDLES_PER_JOB = 4
_ZERO = bytes(HASH_SIZE)


@dataclass
class BundleResult:
    """Per leaf of the bundle, 32 bytes each (a leaf whose entry is unreadable gets zeros; its
    record hash then stays unknown, and the tree is built from the tile's leaf hash)."""

    index: int
    width: int
    record_hashes: bytes = b""
    leaf_hashes: bytes = b""  # recomputed, or the tile's where the entry is unreadable
    subjects: bytes = b""
    prevs: bytes = b""
    kinds: bytes = b""
    refusals: list[tuple[int, bytes]] = field(default_factory=list)  # (leaf, entry)
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True)
class ScanJob:
    mirror: Mirror
    chain_id: int
    contract: str
    platform: str
    bundles: tuple[Tile, ...]


def check_bundle(checker: EntryChecker, mirror: Mirror, bundle: Tile) -> BundleResult:
    """Check the entries of `bundle` in the mirror against themselves and its level-0 tile."""
    tile = Tile(0, bundle.index, bundle.width)
    first = bundle.index * TILE_WIDTH
    result = BundleResult(bundle.index, bundle.width)
    failures = result.failures
    hashes = mirror.read(tile)
    if len(hashes) != tile.byte_size():
        failures.append(Failure(
            AuditCheck.TILE, f"holds {len(hashes)} bytes; a tile of {tile.width} hashes holds "
            f"{tile.byte_size()}", tile=tile.path))
        hashes = hashes[: tile.byte_size()].ljust(tile.byte_size(), b"\0")
    entries: list[bytes] = []
    try:
        # Entries are kept as they come, so those before a broken length prefix are checked.
        entries.extend(iter_bundle(mirror.read(bundle)))
    except EntryBundleError as exc:
        failures.append(Failure(AuditCheck.TILE, f"{exc}", tile=bundle.path,
                                leaf=first + len(entries)))
    if len(entries) != bundle.width:
        failures.append(Failure(
            AuditCheck.TILE, f"holds {len(entries)} entries; expected {bundle.width}",
            tile=bundle.path))
    record_hashes, leaves, subjects, prevs = [], [], [], []
    kinds = bytearray()
    for offset in range(bundle.width):
        leaf = first + offset
        served = hashes[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
        entry = entries[offset] if offset < len(entries) else b""
        try:
            if offset >= len(entries):
                raise EntryError("missing from its bundle")
            facts = checker.check(entry)
        except EntryError as exc:
            failures.append(Failure(AuditCheck.ENTRY, str(exc), leaf=leaf, tile=bundle.path))
            record_hashes.append(_ZERO)
            leaves.append(served)  # the tree is still built, from the tile's hash
            subjects.append(_ZERO)
            prevs.append(_ZERO)
            kinds.append(UNREADABLE)
            continue
        if facts.signature_error is not None:
            failures.append(Failure(AuditCheck.SIGNATURE, facts.signature_error, leaf=leaf,
                                    tile=bundle.path))
        computed = leaf_hash(facts.record_hash)
        if computed != served:
            failures.append(Failure(
                AuditCheck.LEAF, "the tile's leaf hash is not that of the entry's record",
                leaf=leaf, tile=tile.path, expected=computed.hex(), actual=served.hex()))
        record_hashes.append(facts.record_hash)
        leaves.append(computed)
        subjects.append(facts.subject)
        prevs.append(facts.prev)
        kinds.append(CHAINED if facts.extends_chain else BESIDE)
        if facts.type_name == "Refusal":
            result.refusals.append((leaf, entry))
    result.record_hashes = b"".join(record_hashes)
    result.leaf_hashes = b"".join(leaves)
    result.subjects = b"".join(subjects)
    result.prevs = b"".join(prevs)
    result.kinds = bytes(kinds)
    return result


def run_job(job: ScanJob) -> list[BundleResult]:
    checker = EntryChecker(Domain(job.chain_id, job.contract), job.platform)
    return [check_bundle(checker, job.mirror, bundle) for bundle in job.bundles]


def scan(
    jobs: list[ScanJob], workers: int | None, on_done: Callable[[int], None]
) -> Iterator[BundleResult]:
    """Run `jobs` over `workers` processes (default: one per core; 1: in this process) and
    yield their results in bundle order, calling `on_done(leaves)` as each job finishes."""
    workers = workers or os.cpu_count() or 1
    executor: Executor = (ThreadPoolExecutor(1) if workers == 1
                          else ProcessPoolExecutor(workers))
    with executor:
        futures = [executor.submit(run_job, job) for job in jobs]
        for future in futures:
            results = future.result()
            on_done(sum(r.width for r in results))
            yield from results


def jobs_for(
    mirror: Mirror, chain_id: int, contract: str, platform: str, bundles: list[Tile]
) -> list[ScanJob]:
    return [
        ScanJob(mirror, chain_id, contract, platform, tuple(bundles[i : i + BUNDLES_PER_JOB]))
        for i in range(0, len(bundles), BUNDLES_PER_JOB)
    ]
