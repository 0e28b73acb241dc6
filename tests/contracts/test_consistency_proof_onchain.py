"""On chain, ConsistencyProof.verify agrees with RFC 9162 and with ledger.core.merkle.

The contract is the last line of defence against a platform rewriting its history, so it gets the
same treatment as the Python verifier: known-answer vectors, agreement on every pair of sizes up
to MAX_LEAVES, and mutation probes (transparency-dev testdata style) that must all be rejected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from web3.contract import Contract

from ledger.core.merkle import MerkleLog, ProofError, node_hash, verify_consistency

from .conftest import Deploy

# Every (old, new) pair up to this many leaves is checked: enough for trees of six levels, with
# every mix of complete and incomplete subtrees on both sides, at ~12 ms per eth-tester call.
MAX_LEAVES = 40
# Pairs small enough for every mutation probe; bigger trees get the probes on chosen pairs.
MUTATION_EXHAUSTIVE_UP_TO = 10
MUTATION_PAIRS_LARGE = [
    (1, 40), (2, 37), (7, 40), (8, 40), (13, 29), (15, 16), (16, 33),
    (20, 39), (31, 32), (32, 33), (33, 40), (39, 40),
]  # fmt: skip

Proof = list[bytes]
Verify = Callable[[int, int, bytes, bytes, Sequence[bytes]], bool]


@pytest.fixture(scope="module")
def harness(deploy: Deploy) -> Contract:
    return deploy("ConsistencyProofHarness")


@pytest.fixture(scope="module")
def onchain(harness: Contract) -> Verify:
    def _verify(
        old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
    ) -> bool:
        return bool(harness.functions.verify(old, new, old_root, new_root, list(proof)).call())

    return _verify


@pytest.fixture(scope="module")
def log() -> MerkleLog:
    # Distinct leaves of varying length, so no two subtrees share a hash by accident.
    return MerkleLog(bytes(range(i % 7)) + i.to_bytes(2, "big") for i in range(MAX_LEAVES))


def reference_accepts(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    try:
        verify_consistency(old, new, old_root, new_root, proof)
    except ProofError:
        return False
    return True


# --- Known answers -------------------------------------------------------------------------------

# Shared with tests/core/test_merkle.py: published vectors of the RFC 6962 / RFC 9162 tree
# (transparency-dev/merkle, Certificate Transparency), independent of any code in this repository.
VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "merkle_rfc9162.json").read_text()
)
KAT_ROOTS = {int(size): bytes.fromhex(root) for size, root in VECTORS["roots"].items()}
KAT_NODES = [[bytes.fromhex(node) for node in level] for level in VECTORS["node_hashes"]]


def _vector_node(node: list[int] | dict[str, list[list[int]]]) -> bytes:
    """The hash a vector names: [level, index] into node_hashes, or {"node_hash": [l, r]}."""
    if isinstance(node, dict):
        left, right = node["node_hash"]
        return node_hash(_vector_node(left), _vector_node(right))
    level, index = node
    return KAT_NODES[level][index]


KAT_CASES = [
    (case["old_size"], case["new_size"], [bytes.fromhex(node) for node in case["proof"]])
    for case in VECTORS["consistency_proofs"]
] + [
    (case["old_size"], case["new_size"], [_vector_node(node) for node in case["nodes"]])
    for case in VECTORS["consistency_proof_nodes"]
]


@pytest.mark.parametrize(("old", "new", "proof"), KAT_CASES, ids=lambda value: str(value)[:8])
def test_known_answer_vectors(onchain: Verify, old: int, new: int, proof: Proof) -> None:
    assert onchain(old, new, KAT_ROOTS[old], KAT_ROOTS[new], proof)
    if proof:
        assert not onchain(old, new, KAT_ROOTS[old], KAT_ROOTS[new], proof[:-1])


def test_known_answer_tree_is_the_python_log() -> None:
    log = MerkleLog(bytes.fromhex(leaf) for leaf in VECTORS["leaves"])
    assert {size: log.root(size) for size in KAT_ROOTS} == KAT_ROOTS
    for old, new, proof in KAT_CASES:
        assert log.consistency_proof(old, new) == proof, (old, new)


# --- Agreement with the Python log ---------------------------------------------------------------


def test_every_valid_proof_up_to_max_leaves_is_accepted(onchain: Verify, log: MerkleLog) -> None:
    rejected = []
    for new in range(1, MAX_LEAVES + 1):
        for old in range(new + 1):
            # MerkleLog has no proof from the empty tree: there is nothing to prove.
            proof = log.consistency_proof(old, new) if old else []
            old_root, new_root = log.root(old), log.root(new)
            assert reference_accepts(old, new, old_root, new_root, proof), (old, new)
            if not onchain(old, new, old_root, new_root, proof):
                rejected.append((old, new))
    assert not rejected, f"valid proofs rejected on chain for (old, new) = {rejected}"


def test_empty_old_tree_accepts_only_an_empty_proof(onchain: Verify, log: MerkleLog) -> None:
    # On chain every tree extends the empty one, whatever old root is given: the registry
    # passes its own stored root, bytes32(0), before a platform's first head, and no caller
    # chooses it. The off-chain verifier is stricter (only SHA-256("") from size 0), which
    # docs/spec/merkle.md records; the two never disagree on a proof the registry is sent.
    zero = bytes(32)
    for new in (1, 2, 3, 8, 13, MAX_LEAVES):
        assert onchain(0, new, zero, log.root(new), [])
        assert onchain(0, new, log.root(0), log.root(new), [])
        assert not onchain(0, new, zero, log.root(new), [log.root(new)])
        if new > 1:
            assert not onchain(0, new, zero, log.root(new), log.consistency_proof(1, new))
    assert onchain(0, 0, zero, zero, [])
    assert not onchain(0, 0, zero, log.root(1), [])


def test_equal_sizes_need_equal_roots_and_an_empty_proof(onchain: Verify, log: MerkleLog) -> None:
    for size in (1, 2, 5, 16, MAX_LEAVES):
        root = log.root(size)
        assert onchain(size, size, root, root, [])
        assert not onchain(size, size, root, log.root(size - 1), [])
        assert not onchain(size, size, root, root, [root])


def test_shrinking_tree_is_rejected(onchain: Verify, log: MerkleLog) -> None:
    for old, new in ((2, 1), (8, 4), (MAX_LEAVES, 17)):
        proof = log.consistency_proof(new, old)
        assert not onchain(old, new, log.root(old), log.root(new), proof)
        assert not onchain(old, new, log.root(old), log.root(new), [])
    # RFC 9162's steps alone accept this forgery "from 3 leaves to 2": the path [old root, c]
    # recomputes the old root, hashes it with c into any chosen new root, and ends with sn == 0.
    # Only the explicit oldSize > newSize check refuses it.
    c = bytes(32)
    forged_root = node_hash(log.root(3), c)
    assert not onchain(3, 2, log.root(3), forged_root, [log.root(3), c])


def test_extreme_sizes_are_rejected_not_reverted(onchain: Verify, log: MerkleLog) -> None:
    # The loops are bounded by the proof length and by 256 shifts, whatever the sizes claim.
    top = 2**256 - 1
    proof = log.consistency_proof(3, 7)
    assert not onchain(3, top, log.root(3), log.root(7), proof)
    assert not onchain(top - 1, top, log.root(3), log.root(7), proof)
    assert not onchain(2**255, top, log.root(3), log.root(7), proof)


# --- Mutation probes -----------------------------------------------------------------------------


def _flip_bit(node: bytes, bit: int) -> bytes:
    mutated = bytearray(node)
    mutated[bit // 8 % len(node)] ^= 1 << (bit % 8)
    return bytes(mutated)


def mutations(
    log: MerkleLog, old: int, new: int
) -> Iterator[tuple[str, int, int, bytes, bytes, Proof]]:
    """Yields (description, old, new, old_root, new_root, proof), each wrong in exactly one way."""
    proof = log.consistency_proof(old, new)
    old_root, new_root = log.root(old), log.root(new)
    for i, node in enumerate(proof):
        # A different bit for each node and pair, so that over all pairs every bit position of
        # a node (first byte, last byte, high and low bits) gets flipped somewhere.
        bit = (i * 97 + old * 31 + new * 7) % 256
        flipped = [*proof[:i], _flip_bit(node, bit), *proof[i + 1 :]]
        yield f"bit {bit} of node {i} flipped", old, new, old_root, new_root, flipped
        yield f"node {i} removed", old, new, old_root, new_root, proof[:i] + proof[i + 1 :]
    for i in range(len(proof) - 1):
        swapped = [*proof[:i], proof[i + 1], proof[i], *proof[i + 2 :]]
        if swapped != proof:
            yield f"nodes {i} and {i + 1} swapped", old, new, old_root, new_root, swapped
    yield "extra node appended", old, new, old_root, new_root, [*proof, new_root]
    yield "extra node prepended", old, new, old_root, new_root, [old_root, *proof]
    yield "old root flipped", old, new, _flip_bit(old_root, 0), new_root, proof
    yield "new root flipped", old, new, old_root, _flip_bit(new_root, 255), proof
    yield "roots swapped", old, new, new_root, old_root, proof
    # Wrong sizes, as transparency-dev probes them: any change of the old size, but only changes
    # of the new tree's height. A proof fixes the new size only through the shape of its path
    # (from 1 to 3 leaves and from 1 to 4 leaves the path is the same), so the new size is
    # authenticated by whoever vouches for the head (size, root), not by the proof: in the
    # registry, the platform that anchors it.
    for wrong_old in (old - 1, old + 1, old ^ 2):
        if 0 < wrong_old < new and wrong_old != old:
            yield f"old size {wrong_old}", wrong_old, new, old_root, new_root, proof
    for wrong_new in (new * 2, new // 2):
        if wrong_new > old:
            yield f"new size {wrong_new}", old, wrong_new, old_root, new_root, proof
    yield "both sizes 2^64 higher", old + 2**64, new + 2**64, old_root, new_root, proof


def _mutation_pairs() -> list[tuple[int, int]]:
    small = [(old, new) for new in range(2, MUTATION_EXHAUSTIVE_UP_TO + 1) for old in range(1, new)]
    return small + MUTATION_PAIRS_LARGE


def test_every_mutated_proof_is_rejected(onchain: Verify, log: MerkleLog) -> None:
    accepted = []
    probes = 0
    for old, new in _mutation_pairs():
        for what, m_old, m_new, m_old_root, m_new_root, m_proof in mutations(log, old, new):
            probes += 1
            if reference_accepts(m_old, m_new, m_old_root, m_new_root, m_proof):
                accepted.append(f"({old}, {new}) {what}: accepted by ledger.core.merkle")
            if onchain(m_old, m_new, m_old_root, m_new_root, m_proof):
                accepted.append(f"({old}, {new}) {what}: accepted on chain")
    assert not accepted, f"{len(accepted)} of {probes} mutated proofs accepted:\n" + "\n".join(
        accepted
    )
    assert probes > 500  # the probe set did not silently shrink
