// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ConsistencyProof
 * @notice Verifies RFC 9162 consistency proofs between two heads of one append-only Merkle log.
 * @dev The log hashes interior nodes as SHA-256(0x01 || left || right) (RFC 9162 section 2.1.1),
 * which is why OpenZeppelin's keccak-based `MerkleProof` cannot be used here. The algorithm is the
 * one of RFC 9162 section 2.1.4.2, step by step, with the degenerate cases decided first as
 * transparency-dev/merkle does:
 *
 * - `oldSize > newSize`: a tree cannot shrink; rejected before the RFC steps, which alone would
 *   accept a forged path (e.g. from 3 leaves "to" 2 with [oldRoot, c] and newRoot = H(oldRoot, c)).
 * - `oldSize == newSize`: the heads must be identical and the proof empty.
 * - `oldSize == 0`: the empty tree is a prefix of every tree; only an empty proof is accepted.
 *
 * A proof must be consumed exactly: a path with a node too many or too few is rejected.
 *
 * As in RFC 9162, the proof binds `newSize` only through the shape of its path (the path from 1
 * to 3 leaves also proves 1 to 4 leaves for the same roots): the new size must come from whoever
 * vouches for the head (`newSize`, `newRoot`), as a signed tree head does in Certificate
 * Transparency.
 */
library ConsistencyProof {
    /// @dev Address of the SHA-256 precompile (Yellow Paper, appendix E).
    address private constant _SHA256_PRECOMPILE = address(0x02);

    /**
     * @notice Returns whether `proof` shows that the tree of `oldSize` leaves with root `oldRoot`
     * is a prefix of the tree of `newSize` leaves with root `newRoot`.
     * @dev `view` rather than `pure` only because the SHA-256 precompile is reached by a call.
     * @param oldSize Number of leaves in the earlier tree.
     * @param newSize Number of leaves in the later tree.
     * @param oldRoot Root hash of the earlier tree.
     * @param newRoot Root hash of the later tree.
     * @param proof Consistency proof nodes, in the order RFC 9162 section 2.1.4.1 produces them.
     * @return True when the proof is valid for exactly these sizes and roots.
     */
    function verify(
        uint256 oldSize,
        uint256 newSize,
        bytes32 oldRoot,
        bytes32 newRoot,
        bytes32[] calldata proof
    ) internal view returns (bool) {
        if (oldSize > newSize) return false;
        if (oldSize == newSize) return proof.length == 0 && oldRoot == newRoot;
        if (oldSize == 0) return proof.length == 0;
        // RFC 9162 2.1.4.2 step 1.
        if (proof.length == 0) return false;

        // Step 3: fn and sn are the indices of the last leaf of each tree.
        uint256 fn = oldSize - 1;
        uint256 sn = newSize - 1;

        // Step 2 and 5. When oldSize is a power of two, the old tree is a complete subtree of the
        // new one and the proof omits its root: the RFC prepends `oldRoot` to the path. Starting
        // from `oldRoot` and reading the path from its first node does the same without copying
        // the calldata array into memory.
        bytes32 fr;
        uint256 i;
        if (oldSize & fn == 0) {
            fr = oldRoot;
        } else {
            fr = proof[0];
            i = 1;
        }
        bytes32 sr = fr;

        // Step 4: skip the levels where the old tree's last leaf is a right child; the path starts
        // at the root of the largest complete subtree that ends the old tree.
        while (fn & 1 == 1) {
            fn >>= 1;
            sn >>= 1;
        }

        // Step 6.
        for (; i < proof.length; ++i) {
            // The path is longer than the new tree is high.
            if (sn == 0) return false;
            bytes32 c = proof[i];
            if (fn & 1 == 1 || fn == sn) {
                // c is a left sibling, shared by both trees.
                fr = _hashChildren(c, fr);
                sr = _hashChildren(c, sr);
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                // c is a right sibling that only the new tree has.
                sr = _hashChildren(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }

        // Step 7: both roots recomputed, and the path reached the top of the new tree.
        return fr == oldRoot && sr == newRoot && sn == 0;
    }

    /**
     * @dev Returns SHA-256(0x01 || left || right), the RFC 9162 interior node hash.
     *
     * Calls the precompile directly instead of `sha256(abi.encodePacked(0x01, left, right))`:
     * the high-level form allocates a new 65-byte buffer for every node, so memory (and its
     * quadratic cost) grows along the proof. Here the 65 bytes are written past the free memory
     * pointer, which Solidity allows as temporary space as long as the pointer is not moved, and
     * the same bytes are reused for every node; the 32-byte digest lands in scratch space 0x00.
     */
    function _hashChildren(bytes32 left, bytes32 right) private view returns (bytes32 digest) {
        address precompile = _SHA256_PRECOMPILE;
        assembly ("memory-safe") {
            let buffer := mload(0x40)
            mstore8(buffer, 0x01)
            mstore(add(buffer, 0x01), left)
            mstore(add(buffer, 0x21), right)
            // The precompile fails only when out of gas; the digest would then be stale scratch
            // memory, so the failure must surface rather than be read as a hash.
            if iszero(staticcall(gas(), precompile, buffer, 0x41, 0x00, 0x20)) {
                revert(0x00, 0x00)
            }
            digest := mload(0x00)
        }
    }
}
