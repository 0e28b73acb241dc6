"""The RFC 9162 Merkle log: tree hashes, inclusion and consistency proofs, and their verification.

This module is pure: no I/O, no clock, no global state. It implements the Merkle Tree Hash of
RFC 9162 section 2.1.1 over SHA-256 (the hash RFC 6962 fixed and RFC 9162 keeps as its
example), the audit paths of sections 2.1.3.1 and 2.1.4.1, and the verification algorithms of
sections 2.1.3.2 and 2.1.4.2, step for step:

- leaf hash  = SHA-256(0x00 || data)
- node hash  = SHA-256(0x01 || left || right)
- empty tree = SHA-256("")

The distinct 0x00 / 0x01 prefixes are what keep an inner node from being presented as a leaf
(the second-preimage attack RFC 9162 section 2.1.1 guards against); nothing here may bypass
them.

`MerkleLog` keeps, for every level, the hashes of the complete aligned subtrees (level 0 holds
the leaf hashes, level k the hashes of MTH(D[i * 2^k : (i + 1) * 2^k])). Appending is amortized
O(1) hashes; the root of any past size and every proof are O(log n) from those stored hashes,
without rehashing leaves. Verification never needs a `MerkleLog`: a verifier holds only a leaf
hash or roots, sizes and a proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import islice

from ledger.errors import LedgerValueError

__all__ = [
    "HASH_SIZE",
    "MerkleLog",
    "ProofError",
    "ProofShapeError",
    "RootMismatchError",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: int = 32
"""Bytes in every hash of the log: the SHA-256 digest size. Proof elements, leaf hashes and roots
of any other length are malformed, so verification rejects them before hashing."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256
# MTH({}) in RFC 9162 section 2.1.1 is the hash of the empty string, with no prefix.
_EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(LedgerValueError):
    """A Merkle proof, or a request for one, is not acceptable."""


class ProofShapeError(ProofError):
    """An index, size, proof length or hash length is not what RFC 9162 requires.

    The message states what was expected and what was given.
    """


class RootMismatchError(ProofError):
    """The root a proof leads to is not the root it was checked against.

    Attributes:
        expected_root: the root the caller supplied and trusts.
        calculated_root: the root the proof actually leads to.
    """

    def __init__(self, expected_root: bytes, calculated_root: bytes, what: str = "root") -> None:
        """Requires nothing; `what` names the root in the message (e.g. "old root")."""
        self.expected_root: bytes = bytes(expected_root)
        self.calculated_root: bytes = bytes(calculated_root)
        self.what: str = what
        super().__init__(
            f"{what} mismatch: expected 0x{self.expected_root.hex()}, "
            f"calculated 0x{self.calculated_root.hex()}"
        )

    def __reduce__(self) -> tuple[type[RootMismatchError], tuple[bytes, bytes, str]]:
        # Exception pickling replays self.args (the message) into __init__, which takes the
        # roots instead; without this the error cannot cross a process boundary.
        return (type(self), (self.expected_root, self.calculated_root, self.what))


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data).

    Requires nothing of `data`: any byte string, including the empty one, is a valid leaf.
    """
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 inner-node hash SHA-256(0x01 || left || right).

    Requires `left` and `right` to be HASH_SIZE-byte hashes. Not checked here, because this is
    the innermost loop of every tree operation; the verifiers check proof elements once, on
    entry.
    """
    return _sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """Return the k of RFC 9162 section 2.1.1: the largest power of two smaller than n.

    Requires n >= 2.
    """
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_layout(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges [start, end) whose hashes make up PATH(index, D[0:size]).

    Requires 0 <= index < size. The ranges are ordered as RFC 9162 section 2.1.3.1 orders the
    path: from the leaf's sibling up to the child of the root.
    """
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _consistency_layout(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges [start, end) whose hashes make up PROOF(old_size, D[0:new_size]).

    Requires 0 < old_size < new_size. Follows SUBPROOF of RFC 9162 section 2.1.4.1, which is
    started with b = true and recurses left while m <= k (note: <=, so an old tree that is a
    complete left subtree is reached exactly and, while b is still true, left out of the proof,
    since the verifier already holds its hash as the old root).
    """
    ranges: list[tuple[int, int]] = []
    start, end = 0, new_size
    m = old_size  # leaves of the old tree inside [start, end)
    whole_old_tree = True  # RFC 9162's b: [start, end) is still the old tree's own root range
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


class MerkleLog:
    """An append-only RFC 9162 Merkle log held in memory.

    Leaves are leaf *data* (in BindLedger: 32-byte record hashes); the log stores their leaf
    hashes and the hashes of all complete aligned subtrees above them, so any past root and any
    proof is O(log n) to produce. Not safe for concurrent mutation; callers that share a log
    across threads must serialise writes.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        """Requires every item of `leaves` to be bytes. Builds the log of those leaves in order."""
        # _levels[k][i] = MTH(D[i * 2^k : (i + 1) * 2^k]); invariant:
        # len(_levels[k + 1]) == len(_levels[k]) // 2, and the top level is never empty unless
        # the log is.
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaves)

    @property
    def size(self) -> int:
        """Requires nothing. The number of leaves in the log."""
        return len(self._levels[0])

    def append(self, data: bytes) -> int:
        """Requires `data` to be bytes. Appends one leaf and returns its 0-based index."""
        levels = self._levels
        row = levels[0]
        # Hash before mutating, so a bad argument leaves the log unchanged.
        digest = _sha256(_LEAF_PREFIX + data).digest()
        row.append(digest)
        index = len(row) - 1
        level = 0
        # An even count at a level means its last two hashes just became siblings of a
        # complete subtree; push their parent up, and carry on while that level turns even too.
        while not len(row) & 1:
            digest = _sha256(_NODE_PREFIX + row[-2] + digest).digest()
            level += 1
            if level == len(levels):
                levels.append([digest])
                break
            row = levels[level]
            row.append(digest)
        return index

    def extend(self, data: Iterable[bytes]) -> None:
        """Requires every item of `data` to be bytes. Appends them in order, all or nothing.

        Equivalent to calling `append` on each item, but hashes level by level in bulk, which is
        markedly faster for large batches.
        """
        # Every leaf is hashed before the log changes: if `data` raises or holds a non-bytes
        # item, the log is left exactly as it was.
        self._extend_leaf_hashes([_sha256(_LEAF_PREFIX + item).digest() for item in data])

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> MerkleLog:
        """Requires HASH_SIZE-byte leaf hashes (checked). The log whose leaf hashes these are,
        for a reader that holds leaf hashes rather than leaf data (a tiled log's level 0)."""
        hashes = list(leaf_hashes)
        for position, digest in enumerate(hashes):
            if len(digest) != HASH_SIZE:
                raise ProofShapeError(
                    f"leaf hash {position} must be {HASH_SIZE} bytes; got {len(digest)} bytes"
                )
        log = cls()
        log._extend_leaf_hashes(hashes)
        return log

    def _extend_leaf_hashes(self, new_hashes: list[bytes]) -> None:
        """Append leaves by their leaf hashes and hash the complete subtrees they finish."""
        if not new_hashes:
            return
        levels = self._levels
        levels[0].extend(new_hashes)
        level = 0
        while True:
            row = levels[level]
            parents_known = len(levels[level + 1]) if level + 1 < len(levels) else 0
            parents_now = len(row) // 2
            if parents_now == parents_known:
                # No new complete subtree at this level, hence none above it either.
                return
            if level + 1 == len(levels):
                levels.append([])
            pairs = islice(row, 2 * parents_known, 2 * parents_now)
            levels[level + 1].extend(
                [_sha256(_NODE_PREFIX + left + right).digest() for left, right in zip(pairs, pairs)]
            )
            level += 1

    def root(self, size: int | None = None) -> bytes:
        """Requires 0 <= size <= self.size (default: self.size).

        Returns MTH(D[0:size]), the root of the log as it was when it had `size` leaves.
        """
        if size is None:
            size = self.size
        if not 0 <= size <= self.size:
            raise ProofShapeError(
                f"root of size {size} requested; expected 0 <= size <= {self.size}"
            )
        if size == 0:
            return _EMPTY_ROOT
        return self._range_hash(0, size)

    def leaf_hash_at(self, index: int) -> bytes:
        """Requires 0 <= index < self.size. Returns the leaf hash stored at `index`."""
        if not 0 <= index < self.size:
            raise ProofShapeError(
                f"leaf index {index} requested; expected 0 <= index < {self.size}"
            )
        return self._levels[0][index]

    def subtree_hashes(self, height: int, start: int, end: int) -> list[bytes]:
        """Requires height >= 0 and 0 <= start <= end <= self.size >> height.

        Returns the hashes of the complete aligned subtrees of 2^height leaves numbered
        [start, end) at that height: MTH(D[i * 2^height : (i + 1) * 2^height]) for each i. These
        are the nodes a tiled log serves (C2SP tlog-tiles: level L holds height 8L); a complete
        subtree never changes once the log has grown past it.
        """
        complete = self.size >> height if height >= 0 else -1
        if not 0 <= start <= end <= complete:
            raise ProofShapeError(
                f"subtrees [{start}, {end}) of height {height} requested; expected "
                f"0 <= start <= end <= {max(complete, 0)} (complete subtrees at that height)"
            )
        if start == end:
            return []
        return self._levels[height][start:end]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Requires 0 <= index < size <= self.size (size default: self.size).

        Returns PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1: the sibling hashes from the
        leaf up to the root, which `verify_inclusion` checks against `root(size)`.
        """
        if size is None:
            size = self.size
        if not 0 < size <= self.size:
            raise ProofShapeError(
                f"inclusion proof for tree size {size} requested; expected 0 < size <= {self.size}"
            )
        if not 0 <= index < size:
            raise ProofShapeError(
                f"inclusion proof for leaf index {index} requested; "
                f"expected 0 <= index < {size} (the tree size)"
            )
        return [self._range_hash(start, end) for start, end in _inclusion_layout(index, size)]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Requires 0 < old_size <= new_size <= self.size (new_size default: self.size).

        Returns PROOF(old_size, D[0:new_size]) of RFC 9162 section 2.1.4.1, which
        `verify_consistency` checks against `root(old_size)` and `root(new_size)`; the proof
        between equal sizes is empty.
        """
        if new_size is None:
            new_size = self.size
        if not 0 <= new_size <= self.size:
            raise ProofShapeError(
                f"consistency proof to new size {new_size} requested; "
                f"expected 0 <= new_size <= {self.size}"
            )
        if not 0 < old_size <= new_size:
            raise ProofShapeError(
                f"consistency proof from old size {old_size} requested; "
                f"expected 0 < old_size <= {new_size} (the new size)"
            )
        if old_size == new_size:
            return []
        return [
            self._range_hash(start, end) for start, end in _consistency_layout(old_size, new_size)
        ]

    def _range_hash(self, start: int, end: int) -> bytes:
        """Return MTH(D[start:end]) from the stored complete subtrees.

        Requires 0 <= start < end <= self.size and `start` to be a multiple of the smallest power
        of two >= end - start, as holds for every node of the RFC 9162 tree (the root and each
        range the proof layouts produce). Then D[start:end] splits, by the set bits of its
        width from the highest, into stored complete subtrees, and MTH folds them from the
        right: the largest power of two below the width is exactly that highest bit.
        """
        levels = self._levels
        width = end - start
        blocks: list[bytes] = []
        for level in range(width.bit_length() - 1, -1, -1):
            if width >> level & 1:
                blocks.append(levels[level][start >> level])
                start += 1 << level
        acc = blocks.pop()
        while blocks:
            acc = _sha256(_NODE_PREFIX + blocks.pop() + acc).digest()
        return acc


def _check_hash(what: str, value: bytes) -> None:
    """Raise ProofShapeError unless `value` is exactly HASH_SIZE bytes long."""
    if len(value) != HASH_SIZE:
        raise ProofShapeError(f"{what} must be {HASH_SIZE} bytes; got {len(value)} bytes")


def _check_proof_nodes(proof: Sequence[bytes]) -> None:
    """Raise ProofShapeError unless every proof element is exactly HASH_SIZE bytes long."""
    for position, node in enumerate(proof):
        if len(node) != HASH_SIZE:
            raise ProofShapeError(
                f"proof node {position} must be {HASH_SIZE} bytes; got {len(node)} bytes"
            )


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Requires 0 <= index < size, a HASH_SIZE-byte `leaf_hash`, HASH_SIZE-byte proof nodes, and
    exactly as many nodes as PATH(index, D[0:size]) has.

    Returns the root the proof leads to, computed by the algorithm of RFC 9162 section 2.1.3.2;
    raises ProofShapeError when a requirement does not hold. Comparing the result with a
    trusted root is the caller's job (or `verify_inclusion`'s).
    """
    if not 0 <= index < size:
        raise ProofShapeError(
            f"leaf index {index} is outside a tree of size {size}; expected 0 <= index < size"
        )
    _check_hash("leaf hash", leaf_hash)
    _check_proof_nodes(proof)

    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise _inclusion_length_error(index, size, proof)
        if fn & 1 or fn == sn:
            r = _sha256(_NODE_PREFIX + p + r).digest()
            # fn on the right edge of a smaller-than-complete subtree: climb the levels where
            # this node has no sibling, so the next path node is combined at the right height.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _inclusion_length_error(index, size, proof)
    return r


def _inclusion_length_error(index: int, size: int, proof: Sequence[bytes]) -> ProofShapeError:
    """Return the error for an inclusion proof of the wrong length. Requires 0 <= index < size."""
    expected = len(_inclusion_layout(index, size))
    return ProofShapeError(
        f"inclusion proof for leaf index {index} in a tree of size {size} has "
        f"{len(proof)} nodes; expected {expected}"
    )


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Requires everything `root_from_inclusion_proof` requires, and a HASH_SIZE-byte `root`.

    Returns None when `proof` shows that the leaf with hash `leaf_hash` is at `index` in the
    tree of `size` leaves whose root is `root` (RFC 9162 section 2.1.3.2). Raises
    ProofShapeError for a malformed proof and RootMismatchError (carrying both roots) when the
    proof leads to another root.
    """
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    _check_hash("root", root)
    if calculated != root:
        raise RootMismatchError(expected_root=root, calculated_root=calculated)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Requires 0 <= old_size <= new_size, HASH_SIZE-byte roots and proof nodes, and exactly as
    many nodes as PROOF(old_size, D[0:new_size]) has (none when old_size is 0 or equals
    new_size). From size 0 the old root must be the empty tree's, SHA-256("").

    Returns None when `proof` shows that the tree of `old_size` leaves with root `old_root` is a
    prefix of the tree of `new_size` leaves with root `new_root` (RFC 9162 section 2.1.4.2).
    Raises ProofShapeError for a malformed proof and RootMismatchError (carrying the root that
    did not match, old root checked first) otherwise.
    """
    if not 0 <= old_size <= new_size:
        raise ProofShapeError(
            f"consistency from old size {old_size} to new size {new_size}; "
            f"expected 0 <= old_size <= new_size"
        )
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    _check_proof_nodes(proof)

    if old_size == new_size or old_size == 0:
        # Nothing to prove: a tree extends itself, and every tree extends the empty one (whose
        # root is SHA-256("")).
        if proof:
            raise ProofShapeError(
                f"consistency proof from old size {old_size} to new size {new_size} has "
                f"{len(proof)} nodes; expected 0"
            )
        if old_size == 0 and old_root != _EMPTY_ROOT:
            # The empty tree has one root, SHA-256(""): a verifier handed another "root of
            # nothing" is being told something false, and must not certify it (transparency-dev
            # /merkle refuses it too). The contract is lenient here only because it never takes
            # the old root from a caller: it reads its own stored head, zero before the first.
            raise RootMismatchError(
                expected_root=old_root, calculated_root=_EMPTY_ROOT, what="old root"
            )
        if old_size == new_size and old_root != new_root:
            raise RootMismatchError(
                expected_root=new_root, calculated_root=old_root, what="root of the same size"
            )
        return

    # Step 1.
    if not proof:
        raise _consistency_length_error(old_size, new_size, proof)
    # Step 2: a complete old tree is its own subtree in the new one, so the proof omits it.
    nodes: list[bytes] = list(proof)
    if old_size & (old_size - 1) == 0:
        nodes.insert(0, old_root)
    # Steps 3 and 4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = nodes[0]
    # Step 6.
    for c in islice(nodes, 1, None):
        if sn == 0:
            raise _consistency_length_error(old_size, new_size, proof)
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise _consistency_length_error(old_size, new_size, proof)
    if fr != old_root:
        raise RootMismatchError(expected_root=old_root, calculated_root=fr, what="old root")
    if sr != new_root:
        raise RootMismatchError(expected_root=new_root, calculated_root=sr, what="new root")


def _consistency_length_error(
    old_size: int, new_size: int, proof: Sequence[bytes]
) -> ProofShapeError:
    """Return the error for a consistency proof of the wrong length.

    Requires 0 < old_size < new_size.
    """
    expected = len(_consistency_layout(old_size, new_size))
    return ProofShapeError(
        f"consistency proof from old size {old_size} to new size {new_size} has "
        f"{len(proof)} nodes; expected {expected}"
    )
