// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IAnchorRegistry
 * @notice Anchors the tree heads of each platform's append-only Merkle log (RFC 9162), so that a
 * record's inclusion can be checked against a head that the platform can no longer rewrite.
 * @dev Each platform (the account that calls {anchorHead}) has its own sequence of heads. A new
 * head is accepted only when it is larger than the previous one and a consistency proof shows
 * that the previous tree is a prefix of it; the sequence is therefore one growing log.
 *
 * Only each platform's latest head is stored. Every head is evidenced by its {HeadAnchored}
 * event: a verifier proves a head from the anchor transaction's receipt (status 1, the event
 * emitted by this contract with the head's platform, size and root, in a canonical block final
 * at its depth), never from storage. A deployment may name a predecessor (an earlier release of
 * BindLedger): a platform's first head here is then proven consistent with its latest head
 * there, so one log's consistency spans the upgrade.
 */
interface IAnchorRegistry {
    /**
     * @notice A signed-tree-head equivalent: the log of `size` leaves has root `root`, anchored at
     * block time `time` (seconds since the Unix epoch).
     */
    struct TreeHead {
        bytes32 root;
        uint64 size;
        uint64 time;
    }

    /**
     * @dev The new head does not have more leaves than the platform's latest head (on the
     * predecessor for a platform's first head here).
     */
    error AnchorRegistryHeadNotGrowing(uint64 previousSize, uint64 newSize);

    /**
     * @dev The consistency proof does not show that the latest head (on the predecessor for a
     * platform's first head here) is a prefix of the new one.
     */
    error AnchorRegistryInconsistentHead(
        uint64 previousSize,
        bytes32 previousRoot,
        uint64 newSize,
        bytes32 newRoot
    );

    /**
     * @dev `predecessor` has no code that answers {latestHead}: it is not a BindLedger release.
     */
    error AnchorRegistryInvalidPredecessor(address predecessor);

    /**
     * @notice Emitted when `platform` anchored its head number `index` (counting from 0) in this
     * contract. The evidence of the head: its signature is the same in every release.
     * @param platform Account that anchored the head.
     * @param index Position of the head in the platform's sequence in this contract.
     * @param size Number of leaves in the log.
     * @param root Root hash of the log.
     * @param time Block time at which the head was anchored.
     */
    event HeadAnchored(
        address indexed platform,
        uint256 indexed index,
        uint64 size,
        bytes32 root,
        uint64 time
    );

    /**
     * @notice Anchors the caller's log head of `size` leaves with root `root`.
     * @dev Emits a {HeadAnchored} event.
     *
     * Requirements:
     *
     * - the caller must have the platform role.
     * - `size` must be greater than the size of the caller's latest head: in this contract, or
     *   for the caller's first head here, on the {predecessor} (0 if none).
     * - `consistencyProof` must be the RFC 9162 consistency proof from that latest head to the
     *   new head; it must be empty when there is no latest head.
     *
     * @param size Number of leaves in the log.
     * @param root Root hash of the log.
     * @param consistencyProof Consistency proof from the latest head to this one.
     */
    function anchorHead(uint64 size, bytes32 root, bytes32[] calldata consistencyProof) external;

    /**
     * @notice Returns the latest head that `platform` anchored in this contract, or, before its
     * first head here, its latest head on the {predecessor}; a head of zeros if none.
     * @param platform Account whose head is read.
     * @return The latest anchored head.
     */
    function latestHead(address platform) external view returns (TreeHead memory);

    /**
     * @notice Returns the earlier deployment whose heads this one continues (zero if none).
     * @return The predecessor's address.
     */
    function predecessor() external view returns (address);
}
