"""Audit throughput: `bindledger audit` of a mirrored log of many genuinely signed records.

Writing a million records through the ledger (HTTP, store, anchoring worker) would take most
of an hour, so the log is built directly: Verification records of one platform, 16 per subject
and hash-chained, each signed with the platform's key under the deployment's EIP-712 domain
(libsecp256k1 through coincurve) and stored as the ledger stores them (canonical JSON); their
tiles are written into a mirror folder as a server would serve them; and the log's heads, one
every `anchor_every` records, are anchored on the chain by the platform with consistency
proofs, as the anchoring worker anchors them. The checkpoint (the last head and its
transaction) is handed to the audit in process instead of over HTTP.

What is timed is the audit of the complete mirror (nothing left to fetch): reading every
bundle; checking every record's canonical JSON, EIP-712 hash and signature; comparing every
leaf hash with the level-0 tiles; recomputing the tile levels and comparing the tiles above
level 0; reading every head from the contract's HeadAnchored events and comparing it with
the recomputed root, with a consistency proof between successive heads; following every
subject's hash chain; and asking the contract for every subject's head (subjectState, in
JSON-RPC batches). Records are checked in one process per core.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from coincurve import PrivateKey

from ledger.anchors import AnchorContract
from ledger.audit.checkpoint import Checkpoint
from ledger.audit.mirror import Mirror
from ledger.audit.run import AuditOptions, run_audit
from ledger.audit.tiles import TILE_WIDTH, Tile, encode_bundle, leaf_hash, tile_levels, tiles_at
from ledger.bench.common import admin, platform_account
from ledger.chain.client import ChainClient
from ledger.core.bundle import AnchorRef
from ledger.core.merkle import MerkleLog
from ledger.core.records import Domain, SignedRecord, Verification, VerificationMethod

Progress = Callable[[int], None]
RECORDS_PER_SUBJECT = 16
# Records per generation job: whole bundles, and whole subjects (each job has its own).
CHUNK = 16 * TILE_WIDTH
_CANONICAL_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def _generate(job: tuple[Path, int, int, int, str, bytes]) -> bytes:
    """Sign records [start, end) and write their bundles; returns their record hashes."""
    root, start, end, chain_id, contract, key = job
    domain = Domain(chain_id, contract)
    signer = PrivateKey(key)
    platform = platform_account().address
    mirror = Mirror(root)
    subjects = max(1, (end - start) // RECORDS_PER_SUBJECT)
    heads: dict[bytes, bytes] = {}
    hashes: list[bytes] = []
    entries: list[bytes] = []
    for i in range(start, end):
        subject = (start // CHUNK * CHUNK + (i - start) % subjects).to_bytes(32, "big")
        record = Verification(
            platform=platform, subject=subject, prev=heads.get(subject, bytes(32)),
            timestamp=1_700_000_000 + i, method=VerificationMethod(i % 3), passed=True,
            phone=subject[::-1])
        digest = record.digest(domain)
        signature = signer.sign_recoverable(digest, hasher=None)
        signed = SignedRecord(record, signature[:64] + bytes([signature[64] + 27]))
        entries.append(_CANONICAL_JSON.encode(signed.to_json()).encode())
        heads[subject] = digest
        hashes.append(digest)
    for offset in range(0, len(entries), TILE_WIDTH):
        part = entries[offset : offset + TILE_WIDTH]
        mirror.write(Tile(None, (start + offset) // TILE_WIDTH, len(part)), encode_bundle(part))
    return b"".join(hashes)


class _BuiltLog:
    """The log as a server stand-in: its checkpoint, and no tile to fetch (all mirrored)."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.server = "in process"
        self._checkpoint = checkpoint

    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    def tile(self, tile: Tile) -> bytes:
        raise AssertionError(f"the bench mirror lacks {tile.path}")

    def record_leaf(self, record_hash: bytes) -> int | None:
        return None

    def close(self) -> None:
        return None


def build(folder: Path, records: int, chain: ChainClient, anchor_every: int,
          progress: Progress) -> tuple[AnchorContract, Checkpoint, dict[str, float]]:
    """Deploy, write the mirror of `records` signed records, anchor its heads."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    contract = AnchorContract.deploy(chain, admin())
    platform = platform_account()
    chain.fund(platform.address)
    contract.grant_platform_role(admin(), platform.address)
    mirror = Mirror.open(folder, platform.address)
    jobs = [(mirror.root, start, min(start + CHUNK, records), chain.chain_id, contract.address,
             bytes(platform.key)) for start in range(0, records, CHUNK)]
    hashes: list[bytes] = []
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        for packed, job in zip(pool.map(_generate, jobs), jobs, strict=True):
            hashes += [packed[i : i + 32] for i in range(0, len(packed), 32)]
            progress(job[2] - job[1])
    levels = tile_levels([leaf_hash(h) for h in hashes])
    for level in range(len(levels)):
        for tile in tiles_at(records, level):
            start = tile.index * TILE_WIDTH
            mirror.write(tile, b"".join(levels[level][start : start + tile.width]))
    timings["generateSeconds"] = time.perf_counter() - started
    started = time.perf_counter()
    log = MerkleLog.from_leaf_hashes(levels[0])
    sizes = [*range(anchor_every, records, anchor_every), records]
    previous = 0
    receipt = None
    for size in sizes:
        proof = log.consistency_proof(previous, size) if previous else []
        receipt = chain.transact(platform, contract.anchor_call(size, log.root(size), proof))
        previous = size
    assert receipt is not None
    block = chain.block(receipt.block_number)
    assert block is not None
    anchor = AnchorRef(chain.chain_id, contract.address, platform.address, receipt.tx_hash,
                       receipt.block_number, receipt.block_hash, block.timestamp)
    timings["anchorSeconds"] = time.perf_counter() - started
    timings["heads"] = len(sizes)
    return contract, Checkpoint(platform.address, records, log.root(), anchor), timings


def run(records: int, chain: ChainClient, anchor_every: int, progress: Progress,
        audit_progress: Progress) -> dict[str, Any]:
    """Build a log of `records` records, audit its mirror, and report the audit's rate."""
    with tempfile.TemporaryDirectory(prefix="bindledger-audit-bench-") as tmp:
        folder = Path(tmp)
        contract, checkpoint, timings = build(folder, records, chain, anchor_every, progress)
        options = AuditOptions(checkpoint.platform, "in process", "", folder,
                               contract=contract.address)
        load_before = os.getloadavg()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        report = run_audit(options, chain, _Steps(audit_progress),
                           client_factory=lambda o, p: _BuiltLog(checkpoint))
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        load_after = os.getloadavg()
    summary = report.summary
    if not report.verified:
        raise AssertionError(f"the bench log did not verify: {report.verdict()}")
    return {
        "records": records,
        "subjects": summary["subjects"]["count"],
        "heads": summary["heads"]["checked"],
        "workers": os.cpu_count(),
        "auditSeconds": round(seconds, 2),
        "checkSeconds": summary["seconds"]["check"],
        "recordsPerSecond": round(records / seconds, 1),
        # CPU time of the audit's processes (this one and its workers): what it costs whatever
        # else the machine runs, and, over the cores, the time it takes when nothing else does.
        "cpuSeconds": round(cpu, 1),
        "cpuMicrosecondsPerRecord": round(cpu / records * 1e6, 1),
        "secondsOnIdleCores": round(cpu / (os.cpu_count() or 1), 1),
        "verified": report.verified,
        "generateSeconds": round(timings["generateSeconds"], 1),
        "anchorSeconds": round(timings["anchorSeconds"], 1),
        "loadAverage": [round(load_before[0], 2), round(load_after[0], 2)],
    }


def _cpu_seconds() -> float:
    """User and system time of this process and of its children that have ended (the audit's
    worker processes end with it)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _Steps:
    """Progress of the audit's record checks only, for the bench's bar."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._counting = False

    def phase(self, description: str, total: int) -> None:
        self._counting = description == "checking records"

    def advance(self, steps: int) -> None:
        if self._counting:
            self._progress(steps)
