// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IAnchorRegistry
 * @notice Anchors the tree heads of each platform's append-only Merkle log (RFC 9162), so that a
 * record's inclusion can be checked against a head that the platform can no longer rewrite.
 * @dev Each platform (the account that calls {anchorHead}) has its own sequence of heads. A new
 * head is accepted only when it is larger than the previous one and a consistency proof shows
 * that the previous tree is a prefix of it; the sequence is therefore one growing log.
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
     * @dev The new head does not have more leaves than the platform's latest head.
     */
    error AnchorRegistryHeadNotGrowing(uint64 previousSize, uint64 newSize);

    /**
     * @dev The consistency proof does not show that the latest head is a prefix of the new one.
     */
    error AnchorRegistryInconsistentHead(
        uint64 previousSize,
        bytes32 previousRoot,
        uint64 newSize,
        bytes32 newRoot
    );

    /**
     * @dev `platform` has anchored no head of `size` leaves.
     */
    error AnchorRegistryUnknownHead(address platform, uint64 size);

    /**
     * @dev `index` is not below the number of heads `platform` has anchored (`count`).
     */
    error AnchorRegistryIndexOutOfRange(address platform, uint256 index, uint256 count);

    /**
     * @notice Emitted when `platform` anchored its head number `index` (counting from 0).
     * @param platform Account that anchored the head.
     * @param index Position of the head in the platform's sequence.
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
     * - `size` must be greater than the size of the caller's latest head (0 if none).
     * - `consistencyProof` must be the RFC 9162 consistency proof from the caller's latest head to
     *   the new head; for the first head it must be empty.
     *
     * @param size Number of leaves in the log.
     * @param root Root hash of the log.
     * @param consistencyProof Consistency proof from the latest head to this one.
     */
    function anchorHead(uint64 size, bytes32 root, bytes32[] calldata consistencyProof) external;

    /**
     * @notice Returns whether `platform` anchored a head of `size` leaves with root `root`.
     * @param platform Account whose heads are searched.
     * @param size Number of leaves of the head.
     * @param root Root hash the head must have.
     * @return True when such a head is anchored.
     */
    function isHead(address platform, uint64 size, bytes32 root) external view returns (bool);

    /**
     * @notice Returns the head of `size` leaves that `platform` anchored.
     *
     * Requirements:
     *
     * - `platform` must have anchored a head of `size` leaves.
     *
     * @param platform Account whose heads are searched.
     * @param size Number of leaves of the head.
     * @return The anchored head.
     */
    function headAt(address platform, uint64 size) external view returns (TreeHead memory);

    /**
     * @notice Returns the latest head that `platform` anchored, or a head of zeros if none.
     * @param platform Account whose heads are read.
     * @return The latest anchored head.
     */
    function latestHead(address platform) external view returns (TreeHead memory);

    /**
     * @notice Returns how many heads `platform` anchored.
     * @param platform Account whose heads are counted.
     * @return The number of heads.
     */
    function headCount(address platform) external view returns (uint256);

    /**
     * @notice Returns the head number `index` (counting from 0) that `platform` anchored.
     *
     * Requirements:
     *
     * - `index` must be less than {headCount} of `platform`.
     *
     * @param platform Account whose heads are read.
     * @param index Position of the head in the platform's sequence.
     * @return The anchored head.
     */
    function headByIndex(address platform, uint256 index) external view returns (TreeHead memory);
}
