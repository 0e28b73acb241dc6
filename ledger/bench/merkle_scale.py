"""The Merkle log from 10^3 to 10^6 leaves: build, append, proofs and memory."""

from __future__ import annotations

import gc
import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from ledger.bench.gas import record_hashes
from ledger.core.merkle import MerkleLog, leaf_hash, verify_consistency, verify_inclusion

PROOF_SAMPLE = 1000


def _us(seconds: float, count: int) -> float:
    return round(seconds / count * 1e6, 3)


def measure(size: int) -> dict[str, Any]:
    """Build a log of `size` leaves and time what the ledger does with it."""
    leaves = record_hashes(size, b"merkle-scale")
    gc.collect()
    start = time.perf_counter()
    log = MerkleLog(leaves)  # what the ledger does when it loads a platform's log
    build = time.perf_counter() - start
    appended = MerkleLog()
    start = time.perf_counter()
    for leaf in leaves:  # what it does per accepted record
        appended.append(leaf)
    append = time.perf_counter() - start
    assert appended.root() == log.root()
    del appended

    rng = random.Random(size)
    indices = [rng.randrange(size) for _ in range(PROOF_SAMPLE)]
    start = time.perf_counter()
    proofs = [log.inclusion_proof(i) for i in indices]
    prove = time.perf_counter() - start
    root = log.root()
    hashes = [leaf_hash(leaves[i]) for i in indices]
    start = time.perf_counter()
    for i, h, proof in zip(indices, hashes, proofs, strict=True):
        verify_inclusion(h, i, size, proof, root)
    check = time.perf_counter() - start
    olds = [rng.randrange(1, size) for _ in range(PROOF_SAMPLE)]
    start = time.perf_counter()
    consistency = [log.consistency_proof(old) for old in olds]
    prove_consistency = time.perf_counter() - start
    old_roots = [log.root(old) for old in olds]
    start = time.perf_counter()
    for old, old_root, proof in zip(olds, old_roots, consistency, strict=True):
        verify_consistency(old, size, old_root, root, proof)
    check_consistency = time.perf_counter() - start
    del log, proofs, consistency
    return {
        "leaves": size,
        "buildSeconds": round(build, 4),
        "appendUs": _us(append, size),
        "inclusionProofUs": _us(prove, PROOF_SAMPLE),
        "inclusionVerifyUs": _us(check, PROOF_SAMPLE),
        "consistencyProofUs": _us(prove_consistency, PROOF_SAMPLE),
        "consistencyVerifyUs": _us(check_consistency, PROOF_SAMPLE),
        "memoryMiB": round(_memory(leaves) / 2**20, 1),
    }


def _memory(leaves: list[bytes]) -> int:
    """Bytes the log holds beyond its input: traced while a second copy is built."""
    gc.collect()
    tracemalloc.start()
    log = MerkleLog(leaves)
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del log
    return current


def run(sizes: list[int], progress: Callable[[int], None]) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        rows.append(measure(size))
        progress(1)
    return rows
