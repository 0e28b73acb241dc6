// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RiskRules} from "./rules/RiskRules.sol";

/**
 * @title BindLedger
 * @notice The on-chain side of BindLedger, a tamper-evident ledger of phone-binding,
 * verification, consent and loan records kept by a consortium of consumer-credit platforms.
 * Each platform anchors the heads of its append-only Merkle log of records here; a head is
 * accepted only when a consistency proof shows that it extends the platform's previous head, so
 * anchored history cannot be rewritten. Platform-signed binding, verification, consent and loan
 * records are also submitted here, and the repayment-risk rules are enforced over them.
 * @dev Roles are managed through OpenZeppelin `AccessControl`: the admin given to the constructor
 * holds `DEFAULT_ADMIN_ROLE` (governance: roles and rule parameters) and grants `PLATFORM_ROLE`
 * to the platforms and `REGULATOR_ROLE` to the regulators.
 */
contract BindLedger is RiskRules {
    /**
     * @dev The admin given to the constructor is the zero address, which would leave every role
     * ungrantable.
     */
    error BindLedgerInvalidAdmin(address admin);

    /**
     * @notice Deploys the ledger with `admin` as the holder of `DEFAULT_ADMIN_ROLE`.
     *
     * Requirements:
     *
     * - `admin` must not be the zero address.
     *
     * @param admin Account that manages the roles.
     */
    constructor(address admin) {
        if (admin == address(0)) {
            revert BindLedgerInvalidAdmin(admin);
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }
}
