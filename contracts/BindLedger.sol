// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {AnchorRegistry} from "./anchors/AnchorRegistry.sol";
import {RiskRules} from "./rules/RiskRules.sol";

/**
 * @title BindLedger
 * @notice The on-chain side of BindLedger, a tamper-evident ledger of phone-binding,
 * verification, consent and loan records kept by a consortium of consumer-credit platforms.
 * Each platform anchors the heads of its append-only Merkle log of records here; a head is
 * accepted only when a consistency proof shows that it extends the platform's previous head, so
 * anchored history cannot be rewritten. Platform-signed binding, verification, consent and loan
 * records are also submitted here, and the repayment-risk rules are enforced over them.
 *
 * Governance: the admin given to the constructor holds `DEFAULT_ADMIN_ROLE` (roles and rule
 * parameters) and grants `PLATFORM_ROLE` to the platforms and `REGULATOR_ROLE` to the
 * regulators. A consortium deploys it with a {BindLedgerTimelock} as that admin, so that every
 * role grant and parameter change is proposed in public and takes effect only after the
 * timelock's minimum delay: no single key can change the rules, or make itself a regulator, in
 * the same block. The admin role itself moves only in two steps, accepted at least
 * {ADMIN_TRANSFER_DELAY} after it is offered (OpenZeppelin `AccessControlDefaultAdminRules`).
 *
 * A parameter change applies from its execution on. Cooling, factors and the record time window
 * apply to every later record; the loan terms (grace, default, dispute pause limit) only to loans
 * created after it: a loan is judged under the terms it was created with.
 *
 * A platform frozen by a regulator (R8) still anchors its log heads. Anchoring changes no
 * borrower's state; it commits the platform to the log it already has, which is the evidence a
 * regulator investigating a frozen platform needs, and refusing it would let the platform keep
 * its latest records unanchored, and so unprovable, for as long as the freeze lasts.
 *
 * Releases: {interfaceVersion} names this release's interface (2: only each platform's latest
 * head is stored, heads are proven by their {HeadAnchored} event). A release may continue the
 * logs of an earlier deployment, its predecessor: each platform's first head here must extend
 * its latest head there.
 */
contract BindLedger is RiskRules {
    /// @notice How long an offered transfer of `DEFAULT_ADMIN_ROLE` waits before it may be accepted.
    uint48 public constant ADMIN_TRANSFER_DELAY = 5 days;

    /// @dev The interface this release implements; verifiers recognise a release by its code.
    uint256 private constant _INTERFACE_VERSION = 2;

    /**
     * @notice Deploys the ledger with `admin` as the holder of `DEFAULT_ADMIN_ROLE`, continuing
     * the logs anchored in `predecessor` (zero for none).
     *
     * Requirements:
     *
     * - `admin` must not be the zero address (`AccessControlInvalidDefaultAdmin`).
     * - a non-zero `predecessor` must answer `latestHead` (`AnchorRegistryInvalidPredecessor`).
     *
     * @param admin Account that manages the roles and parameters: a {BindLedgerTimelock} in a
     * consortium's deployment.
     * @param predecessor Earlier BindLedger deployment whose heads this one continues, or zero.
     */
    constructor(
        address admin,
        address predecessor
    ) AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin) AnchorRegistry(predecessor) {}

    /**
     * @notice Returns the version of this release's interface: 2.
     * @dev Version 1 (no such function) stored every head and answered `isHead`, `headAt`,
     * `headCount` and `headByIndex`; version 2 stores each platform's latest head only.
     * @return The interface version.
     */
    function interfaceVersion() external pure returns (uint256) {
        return _INTERFACE_VERSION;
    }
}
