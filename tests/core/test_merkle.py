"""Specification of `ledger.core.merkle`, the RFC 9162 Merkle log.

Read top to bottom: the hashing rules; known answers published with the reference
implementations (tests/vectors/merkle_rfc9162.json); agreement with an independent
implementation (pymerkle 7); round trips over every small tree; argument and verifier edge
cases; and finally every way of tampering with a proof, each of which must be rejected.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree  # type: ignore[import-untyped]

from ledger.core.merkle import (
    HASH_SIZE,
    MerkleLog,
    ProofError,
    ProofShapeError,
    RootMismatchError,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from ledger.errors import LedgerError, LedgerValueError

# --------------------------------------------------------------------------------------------
# Vectors and helpers
# --------------------------------------------------------------------------------------------

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "merkle_rfc9162.json").read_text()
)
LEAVES: list[bytes] = [bytes.fromhex(h) for h in VECTORS["leaves"]]
EMPTY_ROOT: bytes = bytes.fromhex(VECTORS["empty_root"])
ROOTS: dict[int, bytes] = {int(size): bytes.fromhex(h) for size, h in VECTORS["roots"].items()}
NODE_HASHES: list[list[bytes]] = [
    [bytes.fromhex(h) for h in level] for level in VECTORS["node_hashes"]
]
SOME_HASH: bytes = bytes.fromhex(VECTORS["some_hash"])

# Trees up to this size get every mutation probe at every index / old size: past 64 so that
# the deepest trees have seven levels and incomplete right edges several levels high.
MAX_PROBED_SIZE = 70


def resolve_node(node: list[int] | dict[str, list[list[int]]]) -> bytes:
    """Return the hash a vector node names: [level, index] into NODE_HASHES, or
    {"node_hash": [left, right]} for the hash of two such nodes."""
    if isinstance(node, dict):
        left, right = node["node_hash"]
        return node_hash(resolve_node(left), resolve_node(right))
    level, index = node
    return NODE_HASHES[level][index]


def distinct_leaves(count: int) -> list[bytes]:
    """Return `count` different leaves, so that no two positions share a leaf hash (a proof
    moved to a position with an identical sibling would otherwise rightly verify)."""
    return [b"leaf-%d" % i for i in range(count)]


def flip_bit(node: bytes, bit: int) -> bytes:
    """Return `node` with bit `bit` (0 = most significant bit of byte 0) inverted."""
    mutated = bytearray(node)
    mutated[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(mutated)


def largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two smaller than n. Requires n >= 2."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


Side = Literal["left", "right", "base"]


def rfc_path(index: int, start: int, end: int) -> list[tuple[Side, int, int]]:
    """PATH(index, D[start:end]) of RFC 9162 section 2.1.3.1, transcribed literally.

    Requires start <= index < end. Returns, leaf upwards, each node's side and leaf range.
    """
    if end - start == 1:
        return []
    k = largest_power_of_two_below(end - start)
    if index < start + k:
        return rfc_path(index, start, start + k) + [("right", start + k, end)]
    return rfc_path(index, start + k, end) + [("left", start, start + k)]


def rfc_subproof(m: int, start: int, end: int, b: bool) -> list[tuple[Side, int, int]]:
    """SUBPROOF(m, D[start:end], b) of RFC 9162 section 2.1.4.1, transcribed literally.

    Requires 0 < m <= end - start. Returns each node's side and leaf range.
    """
    n = end - start
    if m == n:
        return [] if b else [("base", start, end)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return rfc_subproof(m, start, start + k, b) + [("right", start + k, end)]
    return rfc_subproof(m - k, start + k, end, False) + [("left", start, start + k)]


def pymerkle_tree(entries: Iterable[bytes]) -> InmemoryTree:
    """Return a pymerkle tree of `entries`. Its defaults are RFC 9162 hashing: SHA-256 with the
    0x00 leaf and 0x01 node prefixes (checked in test_pymerkle_defaults_are_rfc9162_hashing)."""
    tree = InmemoryTree(algorithm="sha256")
    for entry in entries:
        tree.append_entry(entry)
    return tree


def pymerkle_mth(entries: Sequence[bytes]) -> bytes:
    """MTH(entries) computed by pymerkle alone."""
    return bytes(pymerkle_tree(entries).get_root())


@dataclass(frozen=True)
class Probe:
    """A tampered verification call and the error it must end in."""

    description: str
    call: Callable[[], object]
    rejected_with: type[ProofError] = ProofError


def misjudged(probes: Iterable[Probe]) -> list[str]:
    """Run every probe; return a line for each one accepted or rejected with the wrong error."""
    problems = []
    for probe in probes:
        try:
            probe.call()
        except ProofError as error:
            if not isinstance(error, probe.rejected_with):
                problems.append(
                    f"{probe.description}: {type(error).__name__} ({error}), "
                    f"expected {probe.rejected_with.__name__}"
                )
        else:
            problems.append(f"{probe.description}: accepted")
    return problems


# --------------------------------------------------------------------------------------------
# Hashing rules
# --------------------------------------------------------------------------------------------


def test_hashes_are_sha256_sized() -> None:
    assert HASH_SIZE == 32 == hashlib.sha256().digest_size


def test_leaf_hash_is_sha256_of_0x00_and_the_data() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()


def test_node_hash_is_sha256_of_0x01_left_and_right() -> None:
    left, right = leaf_hash(b"l"), leaf_hash(b"r")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert node_hash(left, right) != node_hash(right, left)


def test_the_empty_log_has_the_hash_of_nothing_as_root() -> None:
    log = MerkleLog()
    assert log.size == 0
    assert log.root() == log.root(0) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_a_one_leaf_log_has_the_leaf_hash_as_root() -> None:
    assert MerkleLog([b"only"]).root() == leaf_hash(b"only")


# --------------------------------------------------------------------------------------------
# Known answers (transparency-dev/merkle, Certificate Transparency)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(9))
def test_root_of_each_prefix_of_the_reference_leaves(size: int) -> None:
    expected = EMPTY_ROOT if size == 0 else ROOTS[size]
    assert MerkleLog(LEAVES[:size]).root() == expected
    assert MerkleLog(LEAVES).root(size) == expected


def test_every_complete_subtree_of_the_reference_tree() -> None:
    log = MerkleLog(LEAVES)
    for level, hashes in enumerate(NODE_HASHES):
        for index, expected in enumerate(hashes):
            subtree = LEAVES[index << level : (index + 1) << level]
            assert MerkleLog(subtree).root() == expected, (level, index)
    assert [log.leaf_hash_at(i) for i in range(8)] == NODE_HASHES[0]


INCLUSION_VECTORS = [
    (v["leaf_index"], v["tree_size"], [bytes.fromhex(h) for h in v["proof"]])
    for v in VECTORS["inclusion_proofs"]
] + [
    (v["leaf_index"], v["tree_size"], [resolve_node(n) for n in v["nodes"]])
    for v in VECTORS["inclusion_proof_nodes"]
]

CONSISTENCY_VECTORS = [
    (v["old_size"], v["new_size"], [bytes.fromhex(h) for h in v["proof"]])
    for v in VECTORS["consistency_proofs"]
] + [
    (v["old_size"], v["new_size"], [resolve_node(n) for n in v["nodes"]])
    for v in VECTORS["consistency_proof_nodes"]
]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_vector(index: int, size: int, proof: list[bytes]) -> None:
    # Leaves past the eighth only give the probes true roots of larger sizes.
    log = MerkleLog(LEAVES + distinct_leaves(8))
    leaf = leaf_hash(LEAVES[index])

    assert log.inclusion_proof(index, size) == proof
    assert root_from_inclusion_proof(leaf, index, size, proof) == ROOTS[size]
    verify_inclusion(leaf, index, size, proof, ROOTS[size])
    assert misjudged(inclusion_probes(leaf, index, size, proof, ROOTS[size], log.root)) == []


@pytest.mark.parametrize(("old_size", "new_size", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_vector(old_size: int, new_size: int, proof: list[bytes]) -> None:
    log = MerkleLog(LEAVES + distinct_leaves(8))
    old_root, new_root = ROOTS[old_size], ROOTS[new_size]

    assert log.consistency_proof(old_size, new_size) == proof
    verify_consistency(old_size, new_size, old_root, new_root, proof)
    if proof:
        assert (
            misjudged(consistency_probes(old_size, new_size, old_root, new_root, proof, log.root))
            == []
        )


# --------------------------------------------------------------------------------------------
# Agreement with an independent implementation: pymerkle 7
# --------------------------------------------------------------------------------------------

entry_lists = st.lists(st.binary(max_size=40), min_size=1, max_size=80)


def test_pymerkle_defaults_are_rfc9162_hashing() -> None:
    tree = pymerkle_tree(LEAVES)
    assert (tree.algorithm, tree.security) == ("sha256", True)
    assert (tree.leaf_prefix, tree.node_prefix) == (b"\x00", b"\x01")
    assert tree.get_root() == ROOTS[8]


@settings(max_examples=40, deadline=None)
@given(entries=entry_lists)
def test_roots_agree_with_pymerkle_at_every_size(entries: list[bytes]) -> None:
    log, tree = MerkleLog(entries), pymerkle_tree(entries)
    assert [log.root(size) for size in range(len(entries) + 1)] == [
        tree.get_root(size) for size in range(len(entries) + 1)
    ]


@settings(max_examples=40, deadline=None)
@given(entries=entry_lists, data=st.data())
def test_inclusion_proofs_agree_with_pymerkle(entries: list[bytes], data: st.DataObject) -> None:
    """pymerkle counts leaves from 1 and starts its path with the leaf hash itself; the rest of
    its path is the RFC 9162 audit path."""
    log, tree = MerkleLog(entries), pymerkle_tree(entries)
    for _ in range(5):
        size = data.draw(st.integers(1, len(entries)), label="size")
        index = data.draw(st.integers(0, size - 1), label="index")
        ours = log.inclusion_proof(index, size)
        theirs = tree.prove_inclusion(index + 1, size)

        assert theirs.path == [log.leaf_hash_at(index), *ours]
        verify_inclusion(log.leaf_hash_at(index), index, size, ours, log.root(size))
        theirs.verify(log.leaf_hash_at(index), log.root(size), index=index + 1, size=size)


@settings(max_examples=40, deadline=None)
@given(entries=entry_lists, data=st.data())
def test_consistency_proofs_agree_with_rfc_text_and_pymerkle(
    entries: list[bytes], data: st.DataObject
) -> None:
    """pymerkle 7's consistency proof is not in RFC 9162 form (it adds a base hash and a
    subset mask and splits differently), so its path cannot be compared node for node.
    Instead: our proof equals SUBPROOF transcribed from RFC 9162 with every subtree hash
    computed by pymerkle, pymerkle's own proof verifies against our roots, and ours verifies."""
    log, tree = MerkleLog(entries), pymerkle_tree(entries)
    for _ in range(3):
        new_size = data.draw(st.integers(1, len(entries)), label="new_size")
        old_size = data.draw(st.integers(1, new_size), label="old_size")
        ours = log.consistency_proof(old_size, new_size)
        reference = [
            pymerkle_mth(entries[start:end])
            for _, start, end in rfc_subproof(old_size, 0, new_size, True)
        ]

        assert ours == reference
        verify_consistency(old_size, new_size, log.root(old_size), log.root(new_size), ours)
        tree.prove_consistency(old_size, new_size).verify(
            log.root(old_size), log.root(new_size), prior_size=old_size, later_size=new_size
        )


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


def test_every_inclusion_proof_of_every_tree_up_to_64_leaves_verifies() -> None:
    log = MerkleLog(distinct_leaves(64))
    for size in range(1, 65):
        root = log.root(size)
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            # O(log n): never more nodes than the tree has levels below the root.
            assert len(proof) <= (size - 1).bit_length()
            verify_inclusion(log.leaf_hash_at(index), index, size, proof, root)


def test_every_consistency_proof_between_trees_up_to_40_leaves_verifies() -> None:
    log = MerkleLog(distinct_leaves(40))
    for new_size in range(1, 41):
        for old_size in range(1, new_size + 1):
            proof = log.consistency_proof(old_size, new_size)
            assert len(proof) <= 2 * (new_size - 1).bit_length()
            verify_consistency(old_size, new_size, log.root(old_size), log.root(new_size), proof)


def test_root_at_a_past_size_equals_the_root_of_a_fresh_log_of_that_prefix() -> None:
    leaves = distinct_leaves(MAX_PROBED_SIZE)
    log = MerkleLog(leaves)
    for size in range(MAX_PROBED_SIZE + 1):
        assert log.root(size) == MerkleLog(leaves[:size]).root(), size


def test_proofs_for_a_past_size_equal_those_of_a_fresh_log_of_that_prefix() -> None:
    leaves = distinct_leaves(33)
    log = MerkleLog(leaves)
    for size in range(1, 34):
        past = MerkleLog(leaves[:size])
        assert [log.inclusion_proof(i, size) for i in range(size)] == [
            past.inclusion_proof(i) for i in range(size)
        ]
        assert [log.consistency_proof(m, size) for m in range(1, size + 1)] == [
            past.consistency_proof(m) for m in range(1, size + 1)
        ]


BIG_LOG = MerkleLog(distinct_leaves(3000))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_proofs_in_a_deeper_tree_verify(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, BIG_LOG.size), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old_size = data.draw(st.integers(1, size), label="old_size")
    verify_inclusion(
        BIG_LOG.leaf_hash_at(index),
        index,
        size,
        BIG_LOG.inclusion_proof(index, size),
        BIG_LOG.root(size),
    )
    verify_consistency(
        old_size,
        size,
        BIG_LOG.root(old_size),
        BIG_LOG.root(size),
        BIG_LOG.consistency_proof(old_size, size),
    )


def test_append_returns_the_index_of_the_new_leaf() -> None:
    log = MerkleLog()
    assert [log.append(leaf) for leaf in LEAVES] == list(range(8))
    assert log.size == 8
    assert log.root() == ROOTS[8]


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.lists(st.binary(max_size=8), max_size=20), max_size=12),
    appended_first=st.integers(0, 5),
)
def test_append_extend_and_constructor_build_the_same_log(
    chunks: list[list[bytes]], appended_first: int
) -> None:
    entries = [entry for chunk in chunks for entry in chunk]
    one_by_one = MerkleLog()
    for entry in entries:
        one_by_one.append(entry)
    in_chunks = MerkleLog()
    for chunk in chunks:
        in_chunks.extend(chunk)
    # A log that did not start empty must carry on where it left off.
    mixed = MerkleLog(entries[:appended_first])
    mixed.extend(iter(entries[appended_first:]))
    logs = [one_by_one, in_chunks, MerkleLog(entries), mixed]

    size = len(entries)
    for log in logs:
        assert log.size == size
        assert [log.root(s) for s in range(size + 1)] == [
            one_by_one.root(s) for s in range(size + 1)
        ]
        assert [log.inclusion_proof(i) for i in range(size)] == [
            one_by_one.inclusion_proof(i) for i in range(size)
        ]
        assert [log.consistency_proof(m) for m in range(1, size + 1)] == [
            one_by_one.consistency_proof(m) for m in range(1, size + 1)
        ]


def test_extend_is_all_or_nothing() -> None:
    log = MerkleLog(LEAVES[:5])

    def failing_source() -> Iterator[bytes]:
        yield b"fine"
        raise OSError("source broke")

    with pytest.raises(OSError, match="source broke"):
        log.extend(failing_source())
    with pytest.raises(TypeError):
        log.extend([b"fine", "not bytes"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        log.append("not bytes")  # type: ignore[arg-type]

    assert (log.size, log.root()) == (5, ROOTS[5])


# --------------------------------------------------------------------------------------------
# Arguments out of range
# --------------------------------------------------------------------------------------------

SMALL = MerkleLog(LEAVES[:5])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (partial(SMALL.root, -1), r"root of size -1 requested; expected 0 <= size <= 5"),
        (partial(SMALL.root, 6), r"root of size 6 requested; expected 0 <= size <= 5"),
        (partial(SMALL.leaf_hash_at, -1), r"leaf index -1 requested; expected 0 <= index < 5"),
        (partial(SMALL.leaf_hash_at, 5), r"leaf index 5 requested; expected 0 <= index < 5"),
        (partial(SMALL.inclusion_proof, 5), r"leaf index 5 .* expected 0 <= index < 5"),
        (partial(SMALL.inclusion_proof, -1), r"leaf index -1 .* expected 0 <= index < 5"),
        (partial(SMALL.inclusion_proof, 3, 3), r"leaf index 3 .* expected 0 <= index < 3"),
        (partial(SMALL.inclusion_proof, 0, 0), r"tree size 0 .* expected 0 < size <= 5"),
        (partial(SMALL.inclusion_proof, 0, 6), r"tree size 6 .* expected 0 < size <= 5"),
        (partial(MerkleLog().inclusion_proof, 0), r"tree size 0 .* expected 0 < size <= 0"),
        (partial(SMALL.consistency_proof, 0), r"old size 0 .* expected 0 < old_size <= 5"),
        (partial(SMALL.consistency_proof, 4, 3), r"old size 4 .* expected 0 < old_size <= 3"),
        (partial(SMALL.consistency_proof, 1, 6), r"new size 6 .* expected 0 <= new_size <= 5"),
        (partial(SMALL.consistency_proof, 1, -1), r"new size -1 .* expected 0 <= new_size"),
    ],
)
def test_out_of_range_arguments_raise_proof_shape_error(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ProofShapeError, match=message) as raised:
        call()
    assert isinstance(raised.value, LedgerValueError)
    assert isinstance(raised.value, LedgerError)
    assert isinstance(raised.value, ValueError)


def test_a_proof_between_equal_sizes_is_empty() -> None:
    assert [SMALL.consistency_proof(size, size) for size in range(1, 6)] == [[]] * 5


# --------------------------------------------------------------------------------------------
# Verifier edge cases (the tables of transparency-dev/merkle proof/verify_test.go)
# --------------------------------------------------------------------------------------------


def test_inclusion_in_a_one_leaf_tree_needs_the_leaf_hash_as_root_and_no_proof() -> None:
    leaf = leaf_hash(b"data")
    verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf, 0, 1, [], SOME_HASH)
    with pytest.raises(ProofShapeError, match="leaf hash must be 32 bytes; got 0 bytes"):
        verify_inclusion(b"", 0, 1, [], leaf)
    with pytest.raises(ProofShapeError, match="root must be 32 bytes; got 0 bytes"):
        verify_inclusion(leaf, 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1), (-1, 0)])
def test_inclusion_index_must_be_inside_the_tree(index: int, size: int) -> None:
    message = rf"leaf index {index} is outside a tree of size {size}; expected 0 <= index < size"
    with pytest.raises(ProofShapeError, match=message):
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    with pytest.raises(ProofShapeError, match=message):
        root_from_inclusion_proof(SOME_HASH, index, size, [])


def test_inclusion_proof_length_must_be_exactly_what_the_path_has() -> None:
    log = MerkleLog(LEAVES)
    proof = log.inclusion_proof(5, 8)
    expected = r"inclusion proof for leaf index 5 in a tree of size 8 has {} nodes; expected 3"
    with pytest.raises(ProofShapeError, match=expected.format(2)):
        root_from_inclusion_proof(log.leaf_hash_at(5), 5, 8, proof[:2])
    with pytest.raises(ProofShapeError, match=expected.format(4)):
        root_from_inclusion_proof(log.leaf_hash_at(5), 5, 8, [*proof, SOME_HASH])


@pytest.mark.parametrize("length", [0, 1, 31, 33, 64])
def test_every_proof_node_must_be_32_bytes(length: int) -> None:
    log = MerkleLog(LEAVES)
    inclusion = log.inclusion_proof(5, 8)
    inclusion[1] = inclusion[1][:length] + b"\x00" * (length - 32)
    with pytest.raises(ProofShapeError, match=f"proof node 1 must be 32 bytes; got {length}"):
        verify_inclusion(log.leaf_hash_at(5), 5, 8, inclusion, ROOTS[8])

    consistency = log.consistency_proof(6, 8)
    consistency[2] = consistency[2][:length] + b"\x00" * (length - 32)
    with pytest.raises(ProofShapeError, match=f"proof node 2 must be 32 bytes; got {length}"):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], consistency)


def test_a_wrong_root_is_reported_with_both_roots() -> None:
    log = MerkleLog(LEAVES)
    with pytest.raises(RootMismatchError) as raised:
        verify_inclusion(log.leaf_hash_at(5), 5, 8, log.inclusion_proof(5, 8), SOME_HASH)
    assert raised.value.expected_root == SOME_HASH
    assert raised.value.calculated_root == ROOTS[8]
    assert (
        str(raised.value)
        == f"root mismatch: expected 0x{SOME_HASH.hex()}, calculated 0x{ROOTS[8].hex()}"
    )


def test_a_root_mismatch_survives_pickling() -> None:
    error = RootMismatchError(expected_root=SOME_HASH, calculated_root=ROOTS[8], what="new root")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.expected_root, copy.calculated_root, str(copy)) == (
        SOME_HASH,
        ROOTS[8],
        str(error),
    )


def test_consistency_failures_name_the_root_that_did_not_match() -> None:
    log = MerkleLog(LEAVES)
    proof = log.consistency_proof(6, 8)
    with pytest.raises(RootMismatchError, match="^old root mismatch") as old:
        verify_consistency(6, 8, SOME_HASH, ROOTS[8], proof)
    assert (old.value.expected_root, old.value.calculated_root) == (SOME_HASH, ROOTS[6])
    with pytest.raises(RootMismatchError, match="^new root mismatch") as new:
        verify_consistency(6, 8, ROOTS[6], SOME_HASH, proof)
    assert (new.value.expected_root, new.value.calculated_root) == (SOME_HASH, ROOTS[8])


ROOT_A, ROOT_B = leaf_hash(b"root a"), leaf_hash(b"root b")


@pytest.mark.parametrize(
    ("old_size", "new_size", "old_root", "new_root", "proof", "rejected_with"),
    [
        # Trees of equal size are consistent exactly when their roots are equal.
        pytest.param(1, 1, ROOT_B, ROOT_B, [], None, id="1-1 same root"),
        pytest.param(5, 5, ROOTS[5], ROOTS[5], [], None, id="5-5 same root"),
        pytest.param(1, 1, ROOT_A, ROOT_B, [], RootMismatchError, id="1-1 other root"),
        pytest.param(1, 1, EMPTY_ROOT, ROOT_B, [], RootMismatchError, id="1-1 empty root"),
        # Every tree extends the empty one, whose root is SHA-256(""): no other old root is
        # accepted from size 0, not even the zero placeholder the contract stores before a
        # platform's first head (docs/spec/merkle.md says why the contract differs).
        pytest.param(0, 0, EMPTY_ROOT, EMPTY_ROOT, [], None, id="0-0"),
        pytest.param(0, 1, EMPTY_ROOT, ROOT_B, [], None, id="0-1"),
        pytest.param(0, 8, EMPTY_ROOT, ROOTS[8], [], None, id="0-8"),
        pytest.param(0, 8, bytes(HASH_SIZE), ROOTS[8], [], RootMismatchError, id="0-8 zero"),
        pytest.param(0, 1, ROOT_A, ROOT_B, [], RootMismatchError, id="0-1 any old root"),
        pytest.param(0, 0, ROOT_A, ROOT_A, [], RootMismatchError, id="0-0 any equal roots"),
        pytest.param(0, 0, EMPTY_ROOT, ROOT_B, [], RootMismatchError, id="0-0 other new root"),
        # Such trivial proofs must be empty.
        pytest.param(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], ProofShapeError, id="0-0 node"),
        pytest.param(0, 1, EMPTY_ROOT, ROOT_B, [EMPTY_ROOT], ProofShapeError, id="0-1 node"),
        pytest.param(1, 1, ROOT_B, ROOT_B, [EMPTY_ROOT], ProofShapeError, id="1-1 node"),
        # No travel to the past, no negative sizes.
        pytest.param(1, 0, ROOT_A, ROOT_B, [], ProofShapeError, id="1-0"),
        pytest.param(2, 1, ROOT_A, ROOT_B, [], ProofShapeError, id="2-1"),
        pytest.param(-1, 1, ROOT_A, ROOT_B, [], ProofShapeError, id="negative old size"),
        # A real extension needs a proof.
        pytest.param(1, 2, ROOTS[1], ROOTS[2], [], ProofShapeError, id="1-2 empty proof"),
        pytest.param(6, 8, ROOTS[6], ROOTS[8], [], ProofShapeError, id="6-8 empty proof"),
        # Roots must be hashes.
        pytest.param(1, 1, b"", b"", [], ProofShapeError, id="empty roots"),
        pytest.param(6, 8, ROOTS[6], ROOTS[8][:31], [], ProofShapeError, id="short new root"),
    ],
)
def test_consistency_special_cases(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    rejected_with: type[ProofError] | None,
) -> None:
    if rejected_with is None:
        verify_consistency(old_size, new_size, old_root, new_root, proof)
    else:
        with pytest.raises(rejected_with):
            verify_consistency(old_size, new_size, old_root, new_root, proof)


def test_consistency_proof_length_must_be_exactly_what_the_proof_has() -> None:
    proof = MerkleLog(LEAVES).consistency_proof(6, 8)
    expected = r"consistency proof from old size 6 to new size 8 has {} nodes; expected 3"
    with pytest.raises(ProofShapeError, match=expected.format(2)):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], proof[:2])
    with pytest.raises(ProofShapeError, match=expected.format(4)):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], [*proof, SOME_HASH])


# --------------------------------------------------------------------------------------------
# Tampering: inclusion proofs
# --------------------------------------------------------------------------------------------


def inclusion_probes(
    leaf: bytes,
    index: int,
    size: int,
    proof: list[bytes],
    root: bytes,
    root_at: Callable[[int], bytes],
) -> Iterator[Probe]:
    """Every tampering of a valid inclusion proof that must fail (after transparency-dev's
    corruptInclusionProof). `root_at(size)` gives the true root of any size up to 2 * size."""

    def verify(
        leaf: bytes = leaf,
        index: int = index,
        size: int = size,
        proof: list[bytes] = proof,
        root: bytes = root,
    ) -> Callable[[], None]:
        return partial(verify_inclusion, leaf, index, size, proof, root)

    yield Probe("leaf index - 1", verify(index=index - 1))
    yield Probe("leaf index + 1", verify(index=index + 1))
    yield Probe("leaf index ^ 2", verify(index=index ^ 2))
    yield Probe("tree size * 2", verify(size=size * 2))
    yield Probe("tree size / 2", verify(size=size // 2))
    for other in (size - 1, size + 1, size * 2, size // 2):
        yield Probe(f"tree size {other} with its own root", verify(size=other, root=root_at(other)))
    yield Probe("wrong leaf", verify(leaf=leaf_hash(b"WrongLeaf")), RootMismatchError)
    yield Probe("leaf of another length", verify(leaf=b"WrongLeaf"), ProofShapeError)
    yield Probe("empty-tree root", verify(root=EMPTY_ROOT), RootMismatchError)
    yield Probe("random root", verify(root=SOME_HASH), RootMismatchError)
    yield Probe("trailing garbage", verify(proof=[*proof, b""]), ProofShapeError)
    yield Probe("trailing root", verify(proof=[*proof, root]), ProofShapeError)
    yield Probe("preceding garbage", verify(proof=[b"", *proof]), ProofShapeError)
    yield Probe("preceding root", verify(proof=[root, *proof]), ProofShapeError)
    yield Probe("preceding leaf", verify(proof=[leaf, *proof]), ProofShapeError)
    for position in range(len(proof)):
        removed = proof[:position] + proof[position + 1 :]
        yield Probe(f"node {position} removed", verify(proof=removed), ProofShapeError)
        inserted = [*proof[: position + 1], SOME_HASH, *proof[position + 1 :]]
        yield Probe(f"node inserted after {position}", verify(proof=inserted), ProofShapeError)
        for bit in (0, 3, 8 * HASH_SIZE - 1):
            flipped = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
            yield Probe(
                f"node {position} bit {bit} flipped", verify(proof=flipped), RootMismatchError
            )


@pytest.mark.parametrize("size", range(1, MAX_PROBED_SIZE + 1))
def test_tampered_inclusion_proofs_are_rejected(size: int) -> None:
    log = MerkleLog(distinct_leaves(2 * size))
    root = log.root(size)
    for index in range(size):
        leaf, proof = log.leaf_hash_at(index), log.inclusion_proof(index, size)
        verify_inclusion(leaf, index, size, proof, root)  # the untampered proof is good
        assert misjudged(inclusion_probes(leaf, index, size, proof, root, log.root)) == [], index


@pytest.mark.parametrize("size", range(1, MAX_PROBED_SIZE + 1))
def test_inclusion_proof_binds_the_tree_size_only_through_the_shape_of_the_path(
    size: int,
) -> None:
    """RFC 9162 inclusion verification learns the tree size only from which side each node is
    on and how many nodes there are. With the root of the size it was made for, a proof is
    therefore accepted for a neighbouring size exactly when that size gives the leaf the same
    path shape: the signed tree head pairing size with root is what pins the size. (With the
    neighbouring size's own root it is always rejected; see the test above.)"""
    log = MerkleLog(distinct_leaves(size + 1))
    root = log.root(size)
    for index in range(size):
        leaf, proof = log.leaf_hash_at(index), log.inclusion_proof(index, size)
        shape = [side for side, _, _ in rfc_path(index, 0, size)]
        for other in (size - 1, size + 1):
            same_shape = index < other and shape == [s for s, _, _ in rfc_path(index, 0, other)]
            probe = Probe(
                f"index {index}, size {other}",
                partial(verify_inclusion, leaf, index, other, proof, root),
            )
            assert misjudged([probe]) == ([f"{probe.description}: accepted"] if same_shape else [])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_flipped_bit_in_any_inclusion_proof_node_is_rejected(
    data: st.DataObject,
) -> None:
    size = data.draw(st.integers(2, MAX_PROBED_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    log = MerkleLog(distinct_leaves(size))
    proof = log.inclusion_proof(index, size)
    position = data.draw(st.integers(0, len(proof) - 1), label="node")
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    proof[position] = flip_bit(proof[position], bit)
    with pytest.raises(RootMismatchError) as raised:
        verify_inclusion(log.leaf_hash_at(index), index, size, proof, log.root(size))
    assert raised.value.expected_root == log.root(size)


@pytest.mark.parametrize(("index", "size"), [(0, 2), (6, 13), (37, 64), (69, 70)])
def test_every_bit_of_every_inclusion_proof_node_matters(index: int, size: int) -> None:
    log = MerkleLog(distinct_leaves(size))
    leaf, proof, root = log.leaf_hash_at(index), log.inclusion_proof(index, size), log.root(size)
    accepted = []
    for position in range(len(proof)):
        for bit in range(8 * HASH_SIZE):
            flipped = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
            try:
                verify_inclusion(leaf, index, size, flipped, root)
            except RootMismatchError:
                continue
            accepted.append((position, bit))
    assert accepted == []


@pytest.mark.parametrize("size", range(2, 34))
def test_an_inner_node_never_verifies_as_a_leaf(size: int) -> None:
    """The second-preimage attack of RFC 9162 section 2.1.1: present the concatenation of an
    inner node's children as leaf data, at the inner node's position in the tree one level up,
    with the rest of the path. The node hash itself fits there (the test first shows the
    position is right), but leaf data is hashed with 0x00 and inner nodes with 0x01, so no leaf
    data reproduces an inner node and the forged leaf is rejected.

    Note what this also shows: `verify_inclusion` trusts its `leaf_hash` to be a leaf hash.
    Callers must compute it with `leaf_hash(data)` themselves, never accept it from the prover.
    """
    leaves = distinct_leaves(size)
    log = MerkleLog(leaves)
    root = log.root()
    for level in range(1, size.bit_length()):
        for position in range(size >> level):  # every complete inner node at this level
            start = position << level
            middle = start + (1 << (level - 1))
            end = start + (1 << level)
            left = MerkleLog(leaves[start:middle]).root()
            right = MerkleLog(leaves[middle:end]).root()
            inner = node_hash(left, right)
            # Above the inner node, the path of its first leaf is the inner node's own path.
            path_above = log.inclusion_proof(start, size)[level:]
            size_one_level_up = ((size - 1) >> level) + 1

            verify_inclusion(inner, position, size_one_level_up, path_above, root)
            forged = leaf_hash(left + right)
            assert forged != inner
            with pytest.raises(RootMismatchError):
                verify_inclusion(forged, position, size_one_level_up, path_above, root)
            with pytest.raises(ProofShapeError):
                verify_inclusion(forged, start, size, path_above, root)
            with pytest.raises(ProofShapeError):
                verify_inclusion(inner, start, size, path_above, root)


# --------------------------------------------------------------------------------------------
# Tampering: consistency proofs
# --------------------------------------------------------------------------------------------


def consistency_probes(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    root_at: Callable[[int], bytes],
) -> Iterator[Probe]:
    """Every tampering of a valid, non-empty consistency proof that must fail (after
    transparency-dev's corruptConsistencyProof). `root_at(size)` gives the true root of any size
    up to 2 * new_size."""

    def verify(
        old_size: int = old_size,
        new_size: int = new_size,
        old_root: bytes = old_root,
        new_root: bytes = new_root,
        proof: list[bytes] = proof,
    ) -> Callable[[], None]:
        return partial(verify_consistency, old_size, new_size, old_root, new_root, proof)

    for other in (old_size - 1, old_size + 1, old_size ^ 2, old_size * 2, old_size // 2):
        yield Probe(f"old size {other}", verify(old_size=other))
        if 0 <= other <= 2 * new_size:
            yield Probe(
                f"old size {other} with its own root",
                verify(old_size=other, old_root=root_at(other)),
            )
    yield Probe("new size * 2", verify(new_size=new_size * 2))
    yield Probe("new size / 2", verify(new_size=new_size // 2))
    for other in (new_size - 1, new_size + 1, new_size * 2, new_size // 2):
        yield Probe(
            f"new size {other} with its own root", verify(new_size=other, new_root=root_at(other))
        )
    yield Probe("wrong old root", verify(old_root=SOME_HASH), RootMismatchError)
    yield Probe("wrong new root", verify(new_root=SOME_HASH), RootMismatchError)
    yield Probe("swapped roots", verify(old_root=new_root, new_root=old_root), RootMismatchError)
    yield Probe("empty-tree old root", verify(old_root=EMPTY_ROOT), RootMismatchError)
    yield Probe("old root of another length", verify(old_root=b"WrongRoot"), ProofShapeError)
    yield Probe("new root of another length", verify(new_root=b"WrongRoot"), ProofShapeError)
    yield Probe("empty proof", verify(proof=[]), ProofShapeError)
    for extra, name in ((b"", "garbage"), (old_root, "old root"), (new_root, "new root")):
        yield Probe(f"trailing {name}", verify(proof=[*proof, extra]), ProofShapeError)
        yield Probe(f"preceding {name}", verify(proof=[extra, *proof]), ProofShapeError)
    yield Probe("preceding node 0", verify(proof=[proof[0], *proof]), ProofShapeError)
    for position in range(len(proof)):
        removed = proof[:position] + proof[position + 1 :]
        yield Probe(f"node {position} removed", verify(proof=removed), ProofShapeError)
        inserted = [*proof[: position + 1], SOME_HASH, *proof[position + 1 :]]
        yield Probe(f"node inserted after {position}", verify(proof=inserted), ProofShapeError)
        for bit in (0, 4, 8 * HASH_SIZE - 1):
            flipped = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
            yield Probe(
                f"node {position} bit {bit} flipped", verify(proof=flipped), RootMismatchError
            )


@pytest.mark.parametrize("new_size", range(2, MAX_PROBED_SIZE + 1))
def test_tampered_consistency_proofs_are_rejected(new_size: int) -> None:
    log = MerkleLog(distinct_leaves(2 * new_size))
    new_root = log.root(new_size)
    for old_size in range(1, new_size):
        old_root, proof = log.root(old_size), log.consistency_proof(old_size, new_size)
        verify_consistency(old_size, new_size, old_root, new_root, proof)  # untampered: good
        assert (
            misjudged(consistency_probes(old_size, new_size, old_root, new_root, proof, log.root))
            == []
        ), old_size


@pytest.mark.parametrize("new_size", range(2, MAX_PROBED_SIZE + 1))
def test_consistency_proof_binds_the_new_size_only_through_the_shape_of_the_proof(
    new_size: int,
) -> None:
    """As with inclusion: with the roots it was made for, a consistency proof is accepted for a
    neighbouring new size exactly when that size gives the same proof shape (which side each
    node is on, and the base node); with that size's own root it is always rejected."""
    log = MerkleLog(distinct_leaves(new_size + 1))
    new_root = log.root(new_size)
    for old_size in range(1, new_size):
        old_root, proof = log.root(old_size), log.consistency_proof(old_size, new_size)
        shape = [side for side, _, _ in rfc_subproof(old_size, 0, new_size, True)]
        for other in (new_size - 1, new_size + 1):
            same_shape = old_size < other and shape == [
                s for s, _, _ in rfc_subproof(old_size, 0, other, True)
            ]
            probe = Probe(
                f"old size {old_size}, new size {other}",
                partial(verify_consistency, old_size, other, old_root, new_root, proof),
            )
            assert misjudged([probe]) == ([f"{probe.description}: accepted"] if same_shape else [])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_flipped_bit_in_any_consistency_proof_node_is_rejected(
    data: st.DataObject,
) -> None:
    new_size = data.draw(st.integers(2, MAX_PROBED_SIZE), label="new_size")
    old_size = data.draw(st.integers(1, new_size - 1), label="old_size")
    log = MerkleLog(distinct_leaves(new_size))
    proof = log.consistency_proof(old_size, new_size)
    position = data.draw(st.integers(0, len(proof) - 1), label="node")
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    proof[position] = flip_bit(proof[position], bit)
    with pytest.raises(RootMismatchError):
        verify_consistency(old_size, new_size, log.root(old_size), log.root(new_size), proof)


@pytest.mark.parametrize(("old_size", "new_size"), [(1, 2), (3, 7), (4, 7), (6, 8), (37, 70)])
def test_every_bit_of_every_consistency_proof_node_matters(old_size: int, new_size: int) -> None:
    log = MerkleLog(distinct_leaves(new_size))
    old_root, new_root = log.root(old_size), log.root(new_size)
    proof = log.consistency_proof(old_size, new_size)
    accepted = []
    for position in range(len(proof)):
        for bit in range(8 * HASH_SIZE):
            flipped = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
            try:
                verify_consistency(old_size, new_size, old_root, new_root, flipped)
            except RootMismatchError:
                continue
            accepted.append((position, bit))
    assert accepted == []


def test_a_log_built_from_leaf_hashes_is_the_log_of_those_leaves() -> None:
    data = [i.to_bytes(4, "big") for i in range(300)]
    log = MerkleLog(data)
    rebuilt = MerkleLog.from_leaf_hashes(log.leaf_hash_at(i) for i in range(300))
    assert [rebuilt.root(n) for n in (0, 1, 255, 256, 300)] == [
        log.root(n) for n in (0, 1, 255, 256, 300)]
    assert rebuilt.consistency_proof(100, 300) == log.consistency_proof(100, 300)
    with pytest.raises(ProofShapeError, match="leaf hash 1 must be 32 bytes"):
        MerkleLog.from_leaf_hashes([bytes(32), bytes(31)])


def test_complete_subtree_hashes_are_served_by_height() -> None:
    log = MerkleLog(i.to_bytes(4, "big") for i in range(300))
    assert log.subtree_hashes(0, 0, 3) == [log.leaf_hash_at(i) for i in range(3)]
    assert log.subtree_hashes(8, 0, 1) == [log.root(256)]
    assert log.subtree_hashes(2, 74, 75) == [MerkleLog(
        i.to_bytes(4, "big") for i in range(296, 300)).root()]
    assert log.subtree_hashes(9, 0, 0) == []
    with pytest.raises(ProofShapeError, match="complete subtrees at that height"):
        log.subtree_hashes(8, 0, 2)  # leaves 256..511 are not all there


@pytest.mark.parametrize(
    ("size", "height", "start", "end", "bound"),
    [
        pytest.param(300, 8, 0, 2, 1, id="past the complete subtrees"),
        pytest.param(300, 0, 2, 1, 300, id="end before start"),
        pytest.param(300, -1, 0, 0, 0, id="negative height"),
        pytest.param(0, 0, 0, 1, 0, id="empty log"),
    ],
)
def test_subtree_requests_outside_the_complete_ones_say_the_bound(
    size: int, height: int, start: int, end: int, bound: int
) -> None:
    log = MerkleLog(i.to_bytes(4, "big") for i in range(size))
    with pytest.raises(ProofShapeError) as refused:
        log.subtree_hashes(height, start, end)
    assert str(refused.value) == (
        f"subtrees [{start}, {end}) of height {height} requested; expected "
        f"0 <= start <= end <= {bound} (complete subtrees at that height)"
    )


@pytest.mark.parametrize(
    ("old_size", "new_size", "old_root", "new_root", "proof", "reason"),
    [
        pytest.param(2, 1, ROOT_A, ROOT_B, [], "consistency from old size 2 to new size 1; "
                     "expected 0 <= old_size <= new_size", id="backwards"),
        pytest.param(1, 1, ROOT_A[:31], ROOT_A, [], "old root must be 32 bytes; got 31 bytes",
                     id="short old root"),
        pytest.param(1, 1, ROOT_A, ROOT_A + b"\x00", [],
                     "new root must be 32 bytes; got 33 bytes", id="long new root"),
        pytest.param(1, 1, ROOT_A, ROOT_A, [ROOT_B], "consistency proof from old size 1 to new "
                     "size 1 has 1 nodes; expected 0", id="trivial proof with a node"),
        pytest.param(1, 1, ROOT_A, ROOT_B, [],
                     f"root of the same size mismatch: expected 0x{ROOT_B.hex()}, "
                     f"calculated 0x{ROOT_A.hex()}", id="same size other root"),
        pytest.param(0, 1, ROOT_A, ROOT_B, [],
                     f"old root mismatch: expected 0x{ROOT_A.hex()}, "
                     f"calculated 0x{EMPTY_ROOT.hex()}", id="another root of the empty tree"),
    ],
)
def test_consistency_refusals_say_exactly_what_was_expected(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes],
    reason: str,
) -> None:
    with pytest.raises(ProofError) as refused:
        verify_consistency(old_size, new_size, old_root, new_root, proof)
    assert str(refused.value) == reason


def test_a_consistency_proof_to_an_empty_tree_is_refused_for_its_old_size() -> None:
    # New size 0 is a size the log had; no old size can precede it, and that is the reason.
    with pytest.raises(ProofShapeError) as refused:
        MerkleLog(LEAVES).consistency_proof(1, 0)
    assert str(refused.value) == (
        "consistency proof from old size 1 requested; expected 0 < old_size <= 0 (the new size)")
