// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title BindLedgerTimelock
 * @notice The governance of a BindLedger consortium: holds the ledger's `DEFAULT_ADMIN_ROLE`, so
 * that role grants (platforms, regulators) and rule parameter changes are scheduled in public and
 * executed only after `minDelay`. It administers itself: changing the delay or the proposers is
 * itself a delayed operation.
 * @dev OpenZeppelin `TimelockController`, with no separate admin. A zero delay is accepted only on
 * the embedded test chain (eth-tester's chain id), where tests run governance without waiting.
 */
contract BindLedgerTimelock is TimelockController {
    /// @notice Chain id of eth-tester, the embedded chain the tests run on.
    uint256 public constant EMBEDDED_TEST_CHAIN_ID = 131277322940537;

    /// @dev A zero minimum delay on a chain other than the embedded test chain.
    error BindLedgerTimelockZeroDelay(uint256 chainId);

    /**
     * @notice Deploys the timelock.
     *
     * Requirements:
     *
     * - `minDelay` is not zero, except on the embedded test chain.
     *
     * @param minDelay Seconds between scheduling an operation and executing it.
     * @param proposers Accounts that schedule (and cancel) operations: the consortium's governors.
     * @param executors Accounts that execute ready operations (the zero address: anyone).
     */
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors
    ) TimelockController(minDelay, proposers, executors, address(0)) {
        if (minDelay == 0 && block.chainid != EMBEDDED_TEST_CHAIN_ID) {
            revert BindLedgerTimelockZeroDelay(block.chainid);
        }
    }
}
