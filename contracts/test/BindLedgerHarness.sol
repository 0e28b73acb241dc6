// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BindLedger} from "../BindLedger.sol";

/**
 * @title BindLedgerHarness
 * @notice Test-only BindLedger whose clock is set by the test: rules that depend on time (cooling
 * periods, consent expiry, repayment status) are then tested without waiting. Never deployed
 * outside tests.
 */
contract BindLedgerHarness is BindLedger {
    uint64 private _now;

    /// @param admin Account that manages the roles, as for {BindLedger}; no predecessor.
    constructor(address admin) BindLedger(admin, address(0)) {}

    /**
     * @notice Sets the time the contract reads; 0 goes back to the block time.
     * @param time Seconds since the Unix epoch.
     */
    function setTime(uint64 time) external {
        _now = time;
    }

    /// @dev The time set by {setTime}, or the block time when none is set.
    function _time() internal view override returns (uint64) {
        return _now == 0 ? super._time() : _now;
    }
}
