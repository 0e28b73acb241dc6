// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {ConsistencyProof} from "../lib/ConsistencyProof.sol";
import {IAnchorRegistry} from "./IAnchorRegistry.sol";

/**
 * @title AnchorRegistry
 * @notice Keeps, for every platform, the sequence of its log heads, each proven on chain to extend
 * the previous one.
 * @dev Heads are stored per platform in an array whose sizes strictly increase, so a head is found
 * by size with a binary search and no second index is stored. Time is read only through {_time},
 * which tests override to move the clock.
 */
abstract contract AnchorRegistry is IAnchorRegistry, AccessControlDefaultAdminRules {
    /// @notice Role of the accounts that anchor their own log heads.
    bytes32 public constant PLATFORM_ROLE = keccak256("PLATFORM_ROLE");

    mapping(address platform => TreeHead[]) private _heads;

    /// @inheritdoc IAnchorRegistry
    function anchorHead(
        uint64 size,
        bytes32 root,
        bytes32[] calldata consistencyProof
    ) external virtual onlyRole(PLATFORM_ROLE) {
        address platform = _msgSender();
        TreeHead[] storage heads = _heads[platform];
        uint256 count = heads.length;

        uint64 previousSize;
        bytes32 previousRoot;
        if (count != 0) {
            TreeHead storage previous = heads[count - 1];
            previousSize = previous.size;
            previousRoot = previous.root;
        }

        if (size <= previousSize) {
            revert AnchorRegistryHeadNotGrowing(previousSize, size);
        }
        if (!ConsistencyProof.verify(previousSize, size, previousRoot, root, consistencyProof)) {
            revert AnchorRegistryInconsistentHead(previousSize, previousRoot, size, root);
        }

        uint64 time = _time();
        heads.push(TreeHead({root: root, size: size, time: time}));
        emit HeadAnchored(platform, count, size, root, time);
    }

    /// @inheritdoc IAnchorRegistry
    function isHead(address platform, uint64 size, bytes32 root) external view virtual returns (bool) {
        (bool found, uint256 index) = _findHead(platform, size);
        return found && _heads[platform][index].root == root;
    }

    /// @inheritdoc IAnchorRegistry
    function headAt(address platform, uint64 size) external view virtual returns (TreeHead memory) {
        (bool found, uint256 index) = _findHead(platform, size);
        if (!found) {
            revert AnchorRegistryUnknownHead(platform, size);
        }
        return _heads[platform][index];
    }

    /// @inheritdoc IAnchorRegistry
    function latestHead(address platform) external view virtual returns (TreeHead memory) {
        TreeHead[] storage heads = _heads[platform];
        uint256 count = heads.length;
        if (count == 0) {
            return TreeHead({root: bytes32(0), size: 0, time: 0});
        }
        return heads[count - 1];
    }

    /// @inheritdoc IAnchorRegistry
    function headCount(address platform) external view virtual returns (uint256) {
        return _heads[platform].length;
    }

    /// @inheritdoc IAnchorRegistry
    function headByIndex(address platform, uint256 index) external view virtual returns (TreeHead memory) {
        TreeHead[] storage heads = _heads[platform];
        uint256 count = heads.length;
        if (index >= count) {
            revert AnchorRegistryIndexOutOfRange(platform, index, count);
        }
        return heads[index];
    }

    /// @inheritdoc AccessControlDefaultAdminRules
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IAnchorRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    /**
     * @dev Returns the current time in seconds since the Unix epoch, as recorded in anchored heads.
     * The only place time is read, so that a test contract can override it.
     */
    function _time() internal view virtual returns (uint64) {
        // A uint64 of seconds lasts for 584 billion years; the cast cannot truncate in practice.
        return uint64(block.timestamp);
    }

    /**
     * @dev Binary search of `platform`'s heads, whose sizes strictly increase, for the one of
     * `size` leaves. Returns whether it exists and, if so, its index.
     */
    function _findHead(address platform, uint64 size) private view returns (bool found, uint256 index) {
        TreeHead[] storage heads = _heads[platform];
        uint256 low = 0;
        uint256 high = heads.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            uint64 midSize = heads[mid].size;
            if (midSize == size) {
                return (true, mid);
            }
            if (midSize < size) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return (false, 0);
    }
}
