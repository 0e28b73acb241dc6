// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title PerRecordAnchors
 * @notice Benchmark baseline, never deployed outside `bindledger bench`: what a platform would
 * write without a Merkle log, anchoring each record hash in its own storage slot. It is kept as
 * cheap as that design allows (no roles, no events), so that the comparison flatters it.
 */
contract PerRecordAnchors {
    /// @dev The record hash was anchored before; a second write would hide the first time.
    error PerRecordAnchorsAlreadyAnchored(bytes32 recordHash);

    mapping(bytes32 recordHash => uint256 anchoredAt) private _anchoredAt;

    /**
     * @notice Anchors one record hash at the current block time, in one transaction.
     * @param recordHash Hash of the record.
     */
    function anchor(bytes32 recordHash) external {
        _anchor(recordHash);
    }

    /**
     * @notice Anchors several record hashes in one transaction, each still in its own slot.
     * @param recordHashes Hashes of the records.
     */
    function anchorBatch(bytes32[] calldata recordHashes) external {
        for (uint256 i = 0; i < recordHashes.length; ++i) {
            _anchor(recordHashes[i]);
        }
    }

    /**
     * @notice Returns when `recordHash` was anchored (block time), or zero if it was not.
     * @param recordHash Hash of the record.
     * @return The block time of its anchor.
     */
    function anchoredAt(bytes32 recordHash) external view returns (uint256) {
        return _anchoredAt[recordHash];
    }

    function _anchor(bytes32 recordHash) private {
        if (_anchoredAt[recordHash] != 0) {
            revert PerRecordAnchorsAlreadyAnchored(recordHash);
        }
        _anchoredAt[recordHash] = block.timestamp;
    }
}
