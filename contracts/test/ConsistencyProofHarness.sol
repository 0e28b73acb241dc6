// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ConsistencyProof} from "../lib/ConsistencyProof.sol";

/**
 * @title ConsistencyProofHarness
 * @notice Test-only contract that exposes the internal {ConsistencyProof-verify} so that tests can
 * call it directly. Never deployed outside tests.
 */
contract ConsistencyProofHarness {
    /**
     * @notice Returns whether `proof` shows that the tree (`oldSize`, `oldRoot`) is a prefix of the
     * tree (`newSize`, `newRoot`), as {ConsistencyProof-verify} decides.
     * @param oldSize Number of leaves in the earlier tree.
     * @param newSize Number of leaves in the later tree.
     * @param oldRoot Root hash of the earlier tree.
     * @param newRoot Root hash of the later tree.
     * @param proof Consistency proof nodes.
     * @return True when the proof is valid.
     */
    function verify(
        uint256 oldSize,
        uint256 newSize,
        bytes32 oldRoot,
        bytes32 newRoot,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return ConsistencyProof.verify(oldSize, newSize, oldRoot, newRoot, proof);
    }
}
