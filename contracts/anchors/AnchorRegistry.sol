// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {ConsistencyProof} from "../lib/ConsistencyProof.sol";
import {IAnchorRegistry} from "./IAnchorRegistry.sol";

/**
 * @title AnchorRegistry
 * @notice Keeps, for every platform, its latest log head, each new head proven on chain to extend
 * it; every head is evidenced by its {HeadAnchored} event.
 * @dev Storing only the latest head (two slots, rewritten in place) instead of appending every
 * head to an array halves the gas of an anchor: an update of a written slot costs 5 000 gas, a
 * new slot 22 100. Time is read only through {_time}, which tests override to move the clock.
 */
abstract contract AnchorRegistry is IAnchorRegistry, AccessControlDefaultAdminRules {
    /// @notice Role of the accounts that anchor their own log heads.
    bytes32 public constant PLATFORM_ROLE = keccak256("PLATFORM_ROLE");

    /// @dev A platform's latest head: size, time and head count share one slot, the root another.
    struct LatestHead {
        uint64 size;
        uint64 time;
        uint64 count;
        bytes32 root;
    }

    // Immutable: the chain of releases a log crosses is fixed at deployment, never re-pointed.
    IAnchorRegistry private immutable _PREDECESSOR;

    mapping(address platform => LatestHead) private _latest;

    /**
     * @dev `predecessor_` is the earlier BindLedger whose heads this one continues (zero: none).
     *
     * Requirements:
     *
     * - a non-zero `predecessor_` must answer {latestHead} (`AnchorRegistryInvalidPredecessor`).
     */
    constructor(address predecessor_) {
        if (predecessor_ != address(0)) {
            // A wrong address would refuse every platform's first head here, forever. An
            // account without code is refused first: a call to it returns no data to decode.
            if (predecessor_.code.length == 0) {
                revert AnchorRegistryInvalidPredecessor(predecessor_);
            }
            try IAnchorRegistry(predecessor_).latestHead(address(0)) returns (TreeHead memory) {} catch {
                revert AnchorRegistryInvalidPredecessor(predecessor_);
            }
        }
        _PREDECESSOR = IAnchorRegistry(predecessor_);
    }

    /// @inheritdoc IAnchorRegistry
    function anchorHead(
        uint64 size,
        bytes32 root,
        bytes32[] calldata consistencyProof
    ) external virtual onlyRole(PLATFORM_ROLE) {
        address platform = _msgSender();
        LatestHead storage latest = _latest[platform];
        uint64 count = latest.count;

        uint64 previousSize;
        bytes32 previousRoot;
        if (count != 0) {
            previousSize = latest.size;
            previousRoot = latest.root;
        } else if (address(_PREDECESSOR) != address(0)) {
            // The first head here continues the log the predecessor holds: consistency spans
            // the upgrade, so no head can be rewritten by moving to a new deployment.
            TreeHead memory inherited = _PREDECESSOR.latestHead(platform);
            previousSize = inherited.size;
            previousRoot = inherited.root;
        }

        if (size <= previousSize) {
            revert AnchorRegistryHeadNotGrowing(previousSize, size);
        }
        if (!ConsistencyProof.verify(previousSize, size, previousRoot, root, consistencyProof)) {
            revert AnchorRegistryInconsistentHead(previousSize, previousRoot, size, root);
        }

        uint64 time = _time();
        _latest[platform] = LatestHead({size: size, time: time, count: count + 1, root: root});
        emit HeadAnchored(platform, count, size, root, time);
    }

    /// @inheritdoc IAnchorRegistry
    function latestHead(address platform) external view virtual returns (TreeHead memory) {
        LatestHead storage latest = _latest[platform];
        if (latest.count == 0) {
            if (address(_PREDECESSOR) != address(0)) {
                return _PREDECESSOR.latestHead(platform);
            }
            return TreeHead({root: bytes32(0), size: 0, time: 0});
        }
        return TreeHead({root: latest.root, size: latest.size, time: latest.time});
    }

    /// @inheritdoc IAnchorRegistry
    function predecessor() external view virtual returns (address) {
        return address(_PREDECESSOR);
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
}
