// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IRiskRules
 * @notice The repayment-risk rules of a BindLedger consortium, enforced on chain over the
 * platform-signed records that are also kept in the platforms' Merkle logs.
 * @dev Every record is an EIP-712 struct signed by its platform (domain "BindLedger", version
 * "1"); any account may relay it. The structs below mirror `ledger/core/records.py` member for
 * member, so that the record hash the platform signed off chain is the one recovered here.
 * Enumerations travel as `uint8` (EIP-712 has no enums):
 *
 * - binding action: 0 BIND, 1 REBIND, 2 UNBIND; `factors` bit i is verification method i;
 * - verification method: 0 SMS_OTP, 1 LIVENESS, 2 CARRIER_MATCH, 3 SIM_SWAP_CHECK (for a
 *   SIM-swap check, `passed` false means a swap was detected);
 * - consent action: 0 GIVEN, 1 WITHDRAWN; purpose: 0 LENDING, 1 CONTACT;
 * - dispute action: 0 OPEN, 1 CLOSE.
 *
 * Each (platform, subject) pair has a hash chain of records: a record's `prev` must be the hash
 * of the pair's latest accepted record (zero for the first). The rules:
 *
 * - R1 disbursement requires an active binding;
 * - R2 a binding is active only with at least `minFactors` distinct verification factors;
 * - R3 disbursement requires given, unexpired LENDING consent; a collection contact requires
 *   given, unexpired CONTACT consent;
 * - R4 during a cooling period (after a rebind or a positive SIM-swap check) disbursement and
 *   repayment-channel changes are refused;
 * - R5 a rebind while the subject has a disbursed loan at the platform flags that loan
 *   (contact risk) until a passed LIVENESS verification;
 * - R6 a loan's repayment status follows from its schedule, its repayments and the time; late
 *   status does not advance while a channel-takeover dispute is open;
 * - R7 no disbursement while any loan of the subject (at any platform) is DELINQUENT or
 *   DEFAULTED;
 * - R8 a frozen platform or loan can change nothing; parameters change only by governance.
 */
interface IRiskRules {
    // --- Records (EIP-712 structs; same members, types and order as ledger/core/records.py) ---

    struct Binding {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        uint8 action;
        bytes32 phone;
        bytes32 account;
        uint8 factors;
    }

    struct Verification {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        uint8 method;
        bool passed;
        bytes32 phone;
    }

    struct Consent {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        uint8 action;
        uint8 purpose;
        bytes32 policyHash;
        uint64 expiresAt;
    }

    struct LoanCreation {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        bytes32 loan;
        uint64[] dueTimes;
        uint128[] amounts;
    }

    struct Disbursement {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        bytes32 loan;
        uint128 amount;
    }

    struct Repayment {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        bytes32 loan;
        uint128 amount;
    }

    struct ChannelChange {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        bytes32 loan;
        bytes32 channel;
    }

    struct CollectionContact {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        bytes32 loan;
        bytes32 channel;
    }

    struct Dispute {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        bytes32 loan;
        uint8 action;
    }

    // --- State -----------------------------------------------------------------------------

    /// @notice Repayment status of a loan (R6). Loans not yet disbursed, or repaid, are CURRENT.
    enum LoanStatus {
        CURRENT,
        GRACE,
        DELINQUENT,
        DEFAULTED
    }

    /// @notice Where a loan is in its life.
    enum LoanPhase {
        NONE,
        CREATED,
        DISBURSED,
        REPAID
    }

    /// @notice The parameters governance may change.
    enum Parameter {
        MIN_FACTORS,
        COOLING_PERIOD,
        GRACE_PERIOD,
        DEFAULT_AFTER
    }

    /**
     * @notice Rule parameters. Defaults: 2 factors, 72 hours of cooling, 15 days of grace,
     * defaulted 90 days past due.
     */
    struct Parameters {
        uint8 minFactors;
        uint64 coolingPeriod;
        uint64 gracePeriod;
        uint64 defaultAfter;
    }

    /// @notice What the rules know of one subject at one platform.
    struct SubjectView {
        bytes32 head;
        bool bound;
        uint8 factors;
        uint64 coolingEndsAt;
        bool lendingConsent;
        uint64 lendingConsentExpiresAt;
        bool contactConsent;
        uint64 contactConsentExpiresAt;
    }

    /**
     * @notice What the rules know of one loan, with its status at the current time. `nextDue` is
     * the due time of the first installment not fully repaid, moved later by `pausedTotal`, the
     * time closed disputes were open.
     */
    struct LoanView {
        address platform;
        LoanPhase phase;
        LoanStatus status;
        bool contactRisk;
        bool frozen;
        bool disputeOpen;
        uint64 nextDue;
        uint128 repaid;
        uint64 pausedTotal;
    }

    // --- Errors ------------------------------------------------------------------------------

    /// @dev The signature does not recover `platform` (`recovered` is zero when malformed).
    error RiskRulesWrongSigner(address recovered, address platform);

    /// @dev The record's `prev` is not the head of the (platform, subject) hash chain.
    error RiskRulesBrokenChain(bytes32 subject, bytes32 expectedPrev, bytes32 prev);

    /// @dev The record is the head of its hash chain already: it was accepted before.
    error RiskRulesReplayedRecord(bytes32 subject, bytes32 record);

    /// @dev R1: the subject has no binding at the platform.
    error RiskRulesNoActiveBinding(bytes32 subject);

    /// @dev R2: the binding has `factors` distinct verification factors, `required` are needed.
    error RiskRulesTooFewFactors(bytes32 subject, uint8 factors, uint8 required);

    /// @dev R3: no consent for `purpose` is given.
    error RiskRulesNoConsent(bytes32 subject, uint8 purpose);

    /// @dev R3: the consent for `purpose` expired at `expiredAt`.
    error RiskRulesConsentExpired(bytes32 subject, uint8 purpose, uint64 expiredAt);

    /// @dev R4: the subject's cooling period lasts until `endsAt`.
    error RiskRulesCoolingPeriod(bytes32 subject, uint64 endsAt);

    /// @dev R7: `loan` of the subject has status `status` (DELINQUENT or DEFAULTED).
    error RiskRulesSubjectInArrears(bytes32 subject, bytes32 loan, uint8 status);

    /// @dev R8: the platform is frozen by a regulator.
    error RiskRulesPlatformFrozen(address platform);

    /// @dev R8: the loan is frozen by a regulator.
    error RiskRulesLoanFrozen(bytes32 subject, bytes32 loan);

    /// @dev A BIND for a subject already bound at the platform (a new number needs a REBIND).
    error RiskRulesAlreadyBound(bytes32 subject);

    /// @dev A REBIND or UNBIND for a subject not bound at the platform.
    error RiskRulesNotBound(bytes32 subject);

    /// @dev An action, method or purpose code outside its enumeration.
    error RiskRulesUnknownCode(uint8 code);

    /// @dev `platform` has no loan `loan` for `subject` (zero platform: no such loan at all).
    error RiskRulesUnknownLoan(address platform, bytes32 subject, bytes32 loan);

    /// @dev A loan `loan` of `subject` exists already.
    error RiskRulesLoanExists(bytes32 subject, bytes32 loan);

    /// @dev The operation needs the loan in phase `required`; it is in `phase`.
    error RiskRulesWrongLoanPhase(bytes32 loan, LoanPhase phase, LoanPhase required);

    /// @dev The schedule is invalid at installment `index` (empty, unequal lengths, too long,
    /// due times not strictly increasing, or a zero amount).
    error RiskRulesInvalidSchedule(bytes32 loan, uint256 index);

    /// @dev The subject has `open` disbursed, unrepaid loans already, the most allowed (6).
    error RiskRulesTooManyOpenLoans(bytes32 subject, uint256 open);

    /// @dev The schedule given with a repayment is not the one the loan was created with.
    error RiskRulesScheduleMismatch(bytes32 loan);

    /// @dev Opening a dispute that is open, or closing one that is not (`open` is its state).
    error RiskRulesDisputeState(bytes32 loan, bool open);

    /// @dev `value` is not allowed for `parameter`.
    error RiskRulesInvalidParameter(Parameter parameter, uint64 value);

    // --- Events ------------------------------------------------------------------------------

    /// @notice A record extended the (platform, subject) hash chain; `record` is its hash.
    event RecordAccepted(address indexed platform, bytes32 indexed subject, bytes32 record);

    /// @notice The subject's binding at the platform changed (`action` 0 BIND, 1 REBIND, 2 UNBIND).
    event BindingChanged(address indexed platform, bytes32 indexed subject, uint8 action, uint8 factors);

    /// @notice A cooling period (R4) started or was extended until `endsAt`.
    event CoolingPeriodStarted(address indexed platform, bytes32 indexed subject, uint64 endsAt);

    /// @notice A verification was recorded.
    event VerificationRecorded(address indexed platform, bytes32 indexed subject, uint8 method, bool passed);

    /// @notice Consent for `purpose` was given (until `expiresAt`) or withdrawn.
    event ConsentChanged(
        address indexed platform,
        bytes32 indexed subject,
        uint8 purpose,
        bool given,
        uint64 expiresAt
    );

    /// @notice A loan was created with `installments` installments totalling `total`.
    event LoanCreated(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        uint256 installments,
        uint256 total
    );

    /// @notice A loan was disbursed.
    event LoanDisbursed(address indexed platform, bytes32 indexed subject, bytes32 indexed loan, uint128 amount);

    /// @notice A repayment was recorded; `repaid` is the total repaid so far.
    event RepaymentRecorded(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        uint128 amount,
        uint128 repaid
    );

    /// @notice The whole schedule of a loan is repaid.
    event LoanRepaid(address indexed platform, bytes32 indexed subject, bytes32 indexed loan);

    /// @notice The repayment channel of a loan changed.
    event RepaymentChannelChanged(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        bytes32 channel
    );

    /// @notice The subject was contacted about a loan through `channel`.
    event CollectionContactRecorded(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        bytes32 channel
    );

    /// @notice A loan was flagged CONTACT_RISK by a rebind (R5).
    event ContactRiskFlagged(address indexed platform, bytes32 indexed subject, bytes32 indexed loan);

    /// @notice A loan's CONTACT_RISK flag was cleared by a passed LIVENESS verification (R5).
    event ContactRiskCleared(address indexed platform, bytes32 indexed subject, bytes32 indexed loan);

    /// @notice A channel-takeover dispute was opened; late status stops advancing (R6).
    event DisputeOpened(address indexed platform, bytes32 indexed subject, bytes32 indexed loan, uint64 openedAt);

    /// @notice A dispute was closed; `pausedTotal` is the time all disputes of the loan lasted.
    event DisputeClosed(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        uint64 pausedTotal
    );

    /// @notice A regulator froze or unfroze a platform.
    event PlatformFreezeChanged(address indexed platform, bool frozen, address regulator);

    /// @notice A regulator froze or unfroze a loan.
    event LoanFreezeChanged(bytes32 indexed subject, bytes32 indexed loan, bool frozen, address regulator);

    /// @notice Governance changed a parameter from `previous` to `value`.
    event ParameterChanged(Parameter indexed parameter, uint64 previous, uint64 value);

    // --- Records in --------------------------------------------------------------------------

    /**
     * @notice Records a bind, rebind or unbind. A rebind starts a cooling period (R4) and flags
     * the subject's disbursed loans at the platform (R5); so does a BIND after an UNBIND, which
     * changes the number just as a rebind does.
     * @dev Emits {RecordAccepted}, {BindingChanged}; on rebind {CoolingPeriodStarted} and
     * {ContactRiskFlagged} for each flagged loan.
     *
     * Requirements (for this and every record function):
     *
     * - `signature` is the platform's EIP-712 signature of the record;
     * - the platform holds PLATFORM_ROLE and is not frozen;
     * - `prev` is the head of the (platform, subject) hash chain.
     *
     * And: BIND needs the subject unbound, REBIND and UNBIND need it bound.
     *
     * @param record The binding record.
     * @param signature The platform's 65-byte signature.
     */
    function recordBinding(Binding calldata record, bytes calldata signature) external;

    /**
     * @notice Records a verification. A positive SIM-swap check starts a cooling period (R4); a
     * passed LIVENESS verification clears the contact-risk flags of the subject's loans (R5).
     * @dev Emits {RecordAccepted}, {VerificationRecorded}, and {CoolingPeriodStarted} or
     * {ContactRiskCleared} as applicable.
     * @param record The verification record.
     * @param signature The platform's 65-byte signature.
     */
    function recordVerification(Verification calldata record, bytes calldata signature) external;

    /**
     * @notice Records consent given (until `expiresAt`) or withdrawn for one purpose.
     * @dev Emits {RecordAccepted}, {ConsentChanged}.
     * @param record The consent record.
     * @param signature The platform's 65-byte signature.
     */
    function recordConsent(Consent calldata record, bytes calldata signature) external;

    /**
     * @notice Creates a loan with its installment schedule; the contract keeps a hash of it.
     * @dev Emits {RecordAccepted}, {LoanCreated}.
     *
     * Requirements: no loan of the subject with this id; 1 to 36 installments, due times
     * strictly increasing, amounts non-zero.
     *
     * @param record The loan creation record.
     * @param signature The platform's 65-byte signature.
     */
    function createLoan(LoanCreation calldata record, bytes calldata signature) external;

    /**
     * @notice Disburses a created loan, under rules R1, R2, R3, R4, R7 and R8.
     * @dev Emits {RecordAccepted}, {LoanDisbursed}.
     *
     * Requirements: the loan is the platform's, CREATED and not frozen; the subject has fewer
     * than 6 open loans across the consortium (each is walked by R7).
     * @param record The disbursement record.
     * @param signature The platform's 65-byte signature.
     */
    function disburse(Disbursement calldata record, bytes calldata signature) external;

    /**
     * @notice Records a repayment of a disbursed loan. The loan's schedule is passed again (the
     * contract keeps only its hash) so that the next due installment can be found.
     * @dev Emits {RecordAccepted}, {RepaymentRecorded}, and {LoanRepaid} when all is repaid.
     * @param record The repayment record.
     * @param signature The platform's 65-byte signature.
     * @param dueTimes The loan's due times, as at creation.
     * @param amounts The loan's installment amounts, as at creation.
     */
    function repay(
        Repayment calldata record,
        bytes calldata signature,
        uint64[] calldata dueTimes,
        uint128[] calldata amounts
    ) external;

    /**
     * @notice Changes a loan's repayment channel; refused during a cooling period (R4).
     * @dev Emits {RecordAccepted}, {RepaymentChannelChanged}.
     * @param record The channel change record.
     * @param signature The platform's 65-byte signature.
     */
    function changeRepaymentChannel(ChannelChange calldata record, bytes calldata signature) external;

    /**
     * @notice Records a collection contact; needs given, unexpired CONTACT consent (R3).
     * @dev Emits {RecordAccepted}, {CollectionContactRecorded}.
     * @param record The collection contact record.
     * @param signature The platform's 65-byte signature.
     */
    function recordCollectionContact(CollectionContact calldata record, bytes calldata signature) external;

    /**
     * @notice Opens or closes a channel-takeover dispute; while open, late status does not
     * advance (R6).
     * @dev Emits {RecordAccepted}, and {DisputeOpened} or {DisputeClosed}.
     * @param record The dispute record.
     * @param signature The platform's 65-byte signature.
     */
    function recordDispute(Dispute calldata record, bytes calldata signature) external;

    // --- Regulators and governance -----------------------------------------------------------

    /**
     * @notice Freezes or unfreezes a platform: a frozen platform's records are all refused.
     * @dev Emits {PlatformFreezeChanged}. Requirements: the caller holds REGULATOR_ROLE.
     * @param platform The platform.
     * @param frozen Whether it is frozen from now on.
     */
    function setPlatformFrozen(address platform, bool frozen) external;

    /**
     * @notice Freezes or unfreezes a loan: records about a frozen loan are all refused.
     * @dev Emits {LoanFreezeChanged}. Requirements: the caller holds REGULATOR_ROLE; the loan
     * exists.
     * @param subject The loan's subject.
     * @param loan The loan id.
     * @param frozen Whether it is frozen from now on.
     */
    function setLoanFrozen(bytes32 subject, bytes32 loan, bool frozen) external;

    /**
     * @notice Changes one rule parameter.
     * @dev Emits {ParameterChanged}. Requirements: the caller holds DEFAULT_ADMIN_ROLE
     * (governance); MIN_FACTORS is 1 to 4; periods are at most 3650 days; GRACE_PERIOD stays
     * below DEFAULT_AFTER.
     * @param parameter The parameter.
     * @param value Its new value (factors, or seconds).
     */
    function setParameter(Parameter parameter, uint64 value) external;

    // --- Views -------------------------------------------------------------------------------

    /// @notice Returns the rule parameters.
    /// @return The current parameters.
    function parameters() external view returns (Parameters memory);

    /// @notice Returns what the rules know of `subject` at `platform`.
    /// @param platform The platform.
    /// @param subject The subject.
    /// @return The subject's state, with the head of its hash chain.
    function subjectState(address platform, bytes32 subject) external view returns (SubjectView memory);

    /// @notice Returns a loan of `subject` with its status at the current time.
    /// @param subject The subject.
    /// @param loan The loan id.
    /// @return The loan's state (phase NONE when there is no such loan).
    function loanState(bytes32 subject, bytes32 loan) external view returns (LoanView memory);

    /// @notice Returns whether `platform` is frozen.
    /// @param platform The platform.
    /// @return True when frozen.
    function isPlatformFrozen(address platform) external view returns (bool);
}
