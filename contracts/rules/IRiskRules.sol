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
 * - consent action: 0 GIVEN, 1 WITHDRAWN, 2 REFUSED; purpose: 0 LENDING, 1 CONTACT,
 *   2 IDENTITY_VERIFICATION, 3 RISK_SHARING, 4 REPAYMENT_NOTICE, 5 MARKETING (the rules read
 *   LENDING and CONTACT consent; the others are accepted into the subject's chain, where the
 *   API reads them);
 * - dispute action: 0 OPEN, 1 CLOSE.
 *
 * Each (platform, subject) pair has a hash chain of records: a record's `prev` must be the hash
 * of the pair's latest accepted record (zero for the first), and its `timestamp` must lie within
 * the governed window around block time (`recordMaxAge` before it, `recordMaxSkew` after it).
 *
 * Subjects and phones are keyed references shared by the whole consortium (one reference
 * secret), so the contract keeps state per subject and per phone across platforms as well as per
 * (platform, subject); a loan is the platform's: it is keyed by (platform, subject, loan id). The
 * rules:
 *
 * - R1 disbursement requires an active binding;
 * - R2 a binding is active only with at least `minFactors` distinct verification factors;
 * - R3 disbursement requires given, unexpired LENDING consent; a collection contact requires
 *   given, unexpired CONTACT consent;
 * - R4 during a cooling period disbursement and repayment-channel changes are refused. A rebind
 *   (at any platform) cools its subject at every platform; a positive SIM-swap check (at any
 *   platform) cools its subject and its phone, that is every subject bound to that phone at every
 *   platform; a number reuse (the phone bound to another subject) cools both subjects;
 * - R5 a rebind while the subject has a disbursed loan at the platform flags that loan (contact
 *   risk) until a passed LIVENESS verification; a number reuse flags every open loan of the
 *   phone's previous holder, at every platform, until that subject passes LIVENESS anywhere;
 * - R6 a loan's repayment status follows from its schedule, its repayments and the time; late
 *   status does not advance while the loan is frozen, nor while a dispute is open, for at most
 *   the loan's dispute pause limit in all;
 * - R7 no disbursement while any loan of the subject (at any platform) is DELINQUENT or
 *   DEFAULTED; a subject has at most 6 open loans, at most 3 of them at one platform;
 * - R8 a frozen platform or loan can change nothing; parameters change only by governance;
 * - R9 a subject the platform's risk model warned about (a RiskWarning) is not disbursed to at
 *   that platform until a passed LIVENESS and a passed SIM_SWAP_CHECK verification of it have
 *   both been accepted after the warning.
 *
 * No member can harm another's borrowers through a loan: a schedule starts after its creation
 * and ends within 5 years of it, a disbursement is the schedule's total, a repayment is more
 * than zero and at most what is owed. A regulator may write off the open loans of a platform
 * that has left the consortium (lost PLATFORM_ROLE), which no one else could ever close.
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

    struct RiskWarning {
        address platform;
        bytes32 subject;
        bytes32 prev;
        uint64 timestamp;
        bytes32 model;
        bytes32 features;
        uint16 score;
        uint16 threshold;
        uint8[] top;
    }

    // --- State -----------------------------------------------------------------------------

    /// @notice Repayment status of a loan (R6). Loans not yet disbursed, or closed, are CURRENT.
    enum LoanStatus {
        CURRENT,
        GRACE,
        DELINQUENT,
        DEFAULTED
    }

    /// @notice Where a loan is in its life. WRITTEN_OFF: closed by a regulator ({writeOffLoan}).
    enum LoanPhase {
        NONE,
        CREATED,
        DISBURSED,
        REPAID,
        WRITTEN_OFF
    }

    /**
     * @notice The parameters governance may change. GRACE_PERIOD, DEFAULT_AFTER and
     * DISPUTE_PAUSE_LIMIT are a loan's terms: a loan keeps those in force when it was created.
     * The others apply to every record from the change on.
     */
    enum Parameter {
        MIN_FACTORS,
        COOLING_PERIOD,
        GRACE_PERIOD,
        DEFAULT_AFTER,
        DISPUTE_PAUSE_LIMIT,
        RECORD_MAX_AGE,
        RECORD_MAX_SKEW
    }

    /**
     * @notice Rule parameters. Defaults: 2 factors, 72 hours of cooling, 15 days of grace,
     * defaulted 90 days past due, disputes pause a loan for at most 90 days in all, a record's
     * timestamp at most 30 days before block time and 15 minutes after it.
     */
    struct Parameters {
        uint8 minFactors;
        uint64 coolingPeriod;
        uint64 gracePeriod;
        uint64 defaultAfter;
        uint64 disputePauseLimit;
        uint64 recordMaxAge;
        uint64 recordMaxSkew;
    }

    /**
     * @notice What the rules know of one subject at one platform. `coolingEndsAt` is when the
     * subject may next be disbursed to (R4): the later of the subject's cooling and that of the
     * phone it is bound to at the platform.
     */
    struct SubjectView {
        bytes32 head;
        bool bound;
        uint8 factors;
        uint64 coolingEndsAt;
        bool lendingConsent;
        uint64 lendingConsentExpiresAt;
        bool contactConsent;
        uint64 contactConsentExpiresAt;
        bytes32 phone;
    }

    /**
     * @notice What the rules know of one subject across the consortium: its cooling (R4), whether
     * its number went to another subject (R5) and how many open loans it has (R7).
     */
    struct BorrowerView {
        uint64 coolingEndsAt;
        bool numberReused;
        uint256 openLoans;
    }

    /// @notice What the rules know of one phone: the subject last bound to it, its cooling (R4).
    struct PhoneView {
        bytes32 holder;
        uint64 coolingEndsAt;
    }

    /**
     * @notice What the rules know of one loan, with its status at the current time. `nextDue` is
     * the due time of the first installment not fully repaid, moved later by `pausedTotal`, the
     * time the loan's clock stood (frozen, or disputed within the limit); a pause still running
     * is counted in `status` but not yet in `nextDue`. `contactRisk` includes the borrower's
     * number reuse.
     */
    struct LoanView {
        LoanPhase phase;
        LoanStatus status;
        bool contactRisk;
        bool frozen;
        bool disputeOpen;
        uint64 nextDue;
        uint128 total;
        uint128 repaid;
        uint64 pausedTotal;
        uint64 disputePaused;
    }

    // --- Errors ------------------------------------------------------------------------------

    /// @dev The signature does not recover `platform` (`recovered` is zero when malformed).
    error RiskRulesWrongSigner(address recovered, address platform);

    /// @dev The record's `prev` is not the head of the (platform, subject) hash chain.
    error RiskRulesBrokenChain(bytes32 subject, bytes32 expectedPrev, bytes32 prev);

    /// @dev The record is the head of its hash chain already: it was accepted before.
    error RiskRulesReplayedRecord(bytes32 subject, bytes32 record);

    /// @dev The record's timestamp is later than block time plus `recordMaxSkew` (`latest`).
    error RiskRulesRecordTimeInFuture(uint64 timestamp, uint64 latest);

    /// @dev The record's timestamp is earlier than block time minus `recordMaxAge` (`earliest`).
    error RiskRulesRecordTimeTooOld(uint64 timestamp, uint64 earliest);

    /// @dev R1: the subject has no binding at the platform.
    error RiskRulesNoActiveBinding(bytes32 subject);

    /// @dev R2: the binding has `factors` distinct verification factors, `required` are needed.
    error RiskRulesTooFewFactors(bytes32 subject, uint8 factors, uint8 required);

    /// @dev R3: no consent for `purpose` is given.
    error RiskRulesNoConsent(bytes32 subject, uint8 purpose);

    /// @dev R3: the consent for `purpose` expired at `expiredAt`.
    error RiskRulesConsentExpired(bytes32 subject, uint8 purpose, uint64 expiredAt);

    /// @dev R4: the subject's cooling period (started at any platform) lasts until `endsAt`.
    error RiskRulesCoolingPeriod(bytes32 subject, uint64 endsAt);

    /// @dev R4: the cooling period of the phone the subject is bound to lasts until `endsAt`.
    error RiskRulesPhoneCoolingPeriod(bytes32 subject, bytes32 phone, uint64 endsAt);

    /// @dev R7: `loan` of `platform` to the subject has status `status` (DELINQUENT or DEFAULTED).
    error RiskRulesSubjectInArrears(bytes32 subject, address platform, bytes32 loan, uint8 status);

    /// @dev R7: the subject has `open` open loans already, the most allowed (6).
    error RiskRulesTooManyOpenLoans(bytes32 subject, uint256 open);

    /// @dev R7: `platform` holds `open` of the subject's open loans already, its most (3).
    error RiskRulesPlatformShareOfOpenLoans(bytes32 subject, address platform, uint256 open);

    /// @dev R8: the platform is frozen by a regulator.
    error RiskRulesPlatformFrozen(address platform);

    /// @dev R8: the loan is frozen by a regulator.
    error RiskRulesLoanFrozen(address platform, bytes32 subject, bytes32 loan);

    /// @dev A BIND for a subject already bound at the platform (a new number needs a REBIND).
    error RiskRulesAlreadyBound(bytes32 subject);

    /// @dev A REBIND or UNBIND for a subject not bound at the platform.
    error RiskRulesNotBound(bytes32 subject);

    /// @dev An action, method or purpose code outside its enumeration.
    error RiskRulesUnknownCode(uint8 code);

    /// @dev `platform` has no loan `loan` for `subject`.
    error RiskRulesUnknownLoan(address platform, bytes32 subject, bytes32 loan);

    /// @dev `platform` has a loan `loan` for `subject` already.
    error RiskRulesLoanExists(address platform, bytes32 subject, bytes32 loan);

    /// @dev The operation needs the loan in phase `required`; it is in `phase`.
    error RiskRulesWrongLoanPhase(bytes32 loan, LoanPhase phase, LoanPhase required);

    /// @dev The schedule is invalid at installment `index` (empty, unequal lengths, too long,
    /// due times not strictly increasing, a zero amount, or a total of 2^128 or more).
    error RiskRulesInvalidSchedule(bytes32 loan, uint256 index);

    /// @dev The schedule's first due time `firstDue` is not after the loan's creation (`time`).
    error RiskRulesScheduleNotInFuture(bytes32 loan, uint64 firstDue, uint64 time);

    /// @dev The schedule's last due time `lastDue` is after `horizon`, 5 years from creation.
    error RiskRulesScheduleBeyondHorizon(bytes32 loan, uint64 lastDue, uint64 horizon);

    /// @dev The disbursed `amount` is not the schedule's total `total`.
    error RiskRulesDisbursementNotScheduleTotal(bytes32 loan, uint128 amount, uint128 total);

    /// @dev A repayment of zero.
    error RiskRulesZeroRepayment(bytes32 loan);

    /// @dev The repayment `amount` is more than the `owed` rest of the schedule.
    error RiskRulesRepaymentExceedsOwed(bytes32 loan, uint128 amount, uint128 owed);

    /// @dev The schedule given with a repayment is not the one the loan was created with.
    error RiskRulesScheduleMismatch(bytes32 loan);

    /// @dev Opening a dispute that is open, or closing one that is not (`open` is its state).
    error RiskRulesDisputeState(bytes32 loan, bool open);

    /// @dev A loan of `platform`, which still holds PLATFORM_ROLE, cannot be written off.
    error RiskRulesPlatformStillMember(address platform);

    /// @dev `value` is not allowed for `parameter`.
    error RiskRulesInvalidParameter(Parameter parameter, uint64 value);

    /// @dev R9: the subject was warned at `warnedAt` and has not passed both fresh checks since.
    error RiskRulesRiskWarning(bytes32 subject, uint64 warnedAt);

    /// @dev A risk warning's score is below its threshold or above 10 000 basis points, or it
    /// names more than 36 top features (as many as any array of a record holds).
    error RiskRulesInvalidWarning(uint16 score, uint16 threshold, uint256 topCount);

    /// @dev {attestRefusal}: `selector` is not that of a rule function taking a record.
    error RiskRulesNotARuleCall(bytes4 selector);

    /// @dev {attestRefusal}: the contract accepts the call, so there is no refusal to attest.
    error RiskRulesCallNotRefused();

    /// @dev {attestRefusal}: the call reverts with `revertData`, which is no rule's (R1-R9) error.
    error RiskRulesNotARuleRefusal(bytes revertData);

    /// @dev {attestRefusal}: only `platform`, whose record the call carries, may attest it.
    error RiskRulesNotRecordPlatform(address sender, address platform);

    // --- Events ------------------------------------------------------------------------------

    /// @notice A record extended the (platform, subject) hash chain; `record` is its hash.
    event RecordAccepted(address indexed platform, bytes32 indexed subject, bytes32 record);

    /// @notice The subject's binding at the platform changed (`action` 0 BIND, 1 REBIND, 2 UNBIND).
    event BindingChanged(address indexed platform, bytes32 indexed subject, uint8 action, uint8 factors);

    /// @notice A cooling period (R4) of the subject, at every platform, started or was extended
    /// until `endsAt`; `platform` is where the record that started it came from.
    event CoolingPeriodStarted(address indexed platform, bytes32 indexed subject, uint64 endsAt);

    /// @notice A cooling period (R4) of the phone, for every subject bound to it at every
    /// platform, started or was extended until `endsAt`.
    event PhoneCoolingStarted(address indexed platform, bytes32 indexed phone, uint64 endsAt);

    /// @notice The phone, last bound to `previousHolder`, was bound to another subject (R4, R5).
    event NumberReused(
        address indexed platform,
        bytes32 indexed phone,
        bytes32 indexed previousHolder,
        bytes32 newHolder
    );

    /// @notice The subject's number reuse flag (R5) was cleared by a passed LIVENESS check.
    event NumberReuseCleared(address indexed platform, bytes32 indexed subject);

    /// @notice The platform's risk model warned about the subject (R9): no disbursement to it
    /// there until a passed LIVENESS and a passed SIM_SWAP_CHECK follow.
    event RiskWarningRecorded(address indexed platform, bytes32 indexed subject, uint16 score, uint16 threshold);

    /// @notice The subject's risk warning at the platform (R9) was lifted: both checks passed since.
    event RiskWarningLifted(address indexed platform, bytes32 indexed subject, uint64 warnedAt);

    /// @notice A verification was recorded.
    event VerificationRecorded(address indexed platform, bytes32 indexed subject, uint8 method, bool passed);

    /// @notice Consent for `purpose` was given (until `expiresAt`), withdrawn or refused.
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

    /// @notice A regulator wrote off an open loan of a platform that left the consortium;
    /// `repaid` of the schedule's total had been repaid.
    event LoanWrittenOff(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        uint128 repaid,
        address regulator
    );

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

    /// @notice A dispute was closed; `pausedTotal` is the time the loan's clock stood so far.
    event DisputeClosed(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        uint64 pausedTotal
    );

    /// @notice A regulator froze or unfroze a platform.
    event PlatformFreezeChanged(address indexed platform, bool frozen, address regulator);

    /// @notice A regulator froze or unfroze a loan; `pausedTotal` as in {DisputeClosed}.
    event LoanFreezeChanged(
        address indexed platform,
        bytes32 indexed subject,
        bytes32 indexed loan,
        bool frozen,
        uint64 pausedTotal,
        address regulator
    );

    /// @notice Governance changed a parameter from `previous` to `value`.
    event ParameterChanged(Parameter indexed parameter, uint64 previous, uint64 value);

    /// @notice The contract refused a record of `subject` at `platform` under a rule, and says
    /// so: the subject's refusal chain now has `count` refusals and head `head`; `revertData` is
    /// the rule's error, as the refused call reverted with it.
    event RefusalAttested(
        address indexed platform,
        bytes32 indexed subject,
        uint64 count,
        bytes32 head,
        bytes revertData
    );

    // --- Records in --------------------------------------------------------------------------

    /**
     * @notice Records a bind, rebind or unbind. A rebind starts a cooling period of the subject
     * at every platform (R4) and flags the subject's disbursed loans at the platform (R5); so
     * does a BIND after an UNBIND, which changes the number just as a rebind does. A BIND or
     * REBIND to a phone last bound to another subject is a number reuse: both subjects cool, and
     * the other subject's open loans, at every platform, are flagged (R5).
     * @dev Emits {RecordAccepted}, {BindingChanged}; on rebind {CoolingPeriodStarted} and
     * {ContactRiskFlagged} for each flagged loan; on number reuse {NumberReused} and
     * {CoolingPeriodStarted} for both subjects. The work is bounded: one phone, two subjects, at
     * most 3 loans flagged one by one.
     *
     * Requirements (for this and every record function):
     *
     * - `signature` is the platform's EIP-712 signature of the record;
     * - the platform holds PLATFORM_ROLE and is not frozen;
     * - `prev` is the head of the (platform, subject) hash chain;
     * - `timestamp` is within the record time window around block time.
     *
     * And: BIND needs the subject unbound, REBIND and UNBIND need it bound.
     *
     * @param record The binding record.
     * @param signature The platform's 65-byte signature.
     */
    function recordBinding(Binding calldata record, bytes calldata signature) external;

    /**
     * @notice Records a verification. A positive SIM-swap check starts a cooling period (R4) of
     * the subject and of the phone checked, at every platform; a passed LIVENESS verification
     * clears the contact-risk flags of the subject's loans at the platform and its number reuse
     * flag (R5); a passed LIVENESS or SIM_SWAP_CHECK counts toward lifting the subject's risk
     * warning at the platform (R9), which both lift.
     * @dev Emits {RecordAccepted}, {VerificationRecorded}, and {CoolingPeriodStarted} with
     * {PhoneCoolingStarted}, or {ContactRiskCleared} and {NumberReuseCleared}, and
     * {RiskWarningLifted}, as applicable.
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
     * @notice Creates a loan of the platform with its installment schedule; the contract keeps a
     * hash of it, its total and the loan terms (grace, default, dispute pause limit) in force.
     * @dev Emits {RecordAccepted}, {LoanCreated}.
     *
     * Requirements: the platform has no loan of the subject with this id; 1 to 36 installments,
     * due times strictly increasing, the first after block time and the last within 5 years of
     * it, amounts non-zero and totalling less than 2^128.
     *
     * @param record The loan creation record.
     * @param signature The platform's 65-byte signature.
     */
    function createLoan(LoanCreation calldata record, bytes calldata signature) external;

    /**
     * @notice Disburses a created loan, under rules R1, R2, R3, R4, R7, R8 and R9.
     * @dev Emits {RecordAccepted}, {LoanDisbursed}.
     *
     * Requirements: the loan is the platform's, CREATED and not frozen; `amount` is the
     * schedule's total; the subject has fewer than 6 open loans across the consortium and fewer
     * than 3 at this platform (each is walked by R7).
     * @param record The disbursement record.
     * @param signature The platform's 65-byte signature.
     */
    function disburse(Disbursement calldata record, bytes calldata signature) external;

    /**
     * @notice Records the platform's risk model warning about the subject (R9): no disbursement
     * to it at the platform until a passed LIVENESS and a passed SIM_SWAP_CHECK verification of
     * it are both accepted after the warning. A later warning starts the wait again.
     * @dev Emits {RecordAccepted}, {RiskWarningRecorded}. The warning extends the subject's hash
     * chain like any rule record, so the checks that lift it are the ones after it in the chain
     * (the one completing the pair emits {RiskWarningLifted}).
     *
     * The warning holds at its platform only: it is that platform's model judging that
     * platform's records, and the checks that clear it are that platform's verifications.
     * The signals that concern every member (a failed SIM-swap check cooling the phone and the
     * subject, a reused number) already reach the whole consortium through R4 and R5, and a
     * member must not be able to stop another's lending on its own model's say.
     *
     * Requirements: as every record (signature, PLATFORM_ROLE, not frozen, time, `prev` the
     * head); `threshold <= score <= 10 000` and at most 36 `top` features.
     * @param record The risk warning record.
     * @param signature The platform's 65-byte signature.
     */
    function recordRiskWarning(RiskWarning calldata record, bytes calldata signature) external;

    /**
     * @notice Records a repayment of a disbursed loan. The loan's schedule is passed again (the
     * contract keeps only its hash) so that the next due installment can be found.
     * @dev Emits {RecordAccepted}, {RepaymentRecorded}, and {LoanRepaid} when all is repaid.
     *
     * Requirements: the loan is the platform's, DISBURSED and not frozen; `amount` is more than
     * zero and at most what is owed; the schedule is the loan's.
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
     * advance (R6), for at most the loan's dispute pause limit over all its disputes: after
     * that, R7 counts the loan's lateness again.
     * @dev Emits {RecordAccepted}, and {DisputeOpened} or {DisputeClosed}.
     * @param record The dispute record.
     * @param signature The platform's 65-byte signature.
     */
    function recordDispute(Dispute calldata record, bytes calldata signature) external;

    /**
     * @notice Attests that the contract refuses `call` under a rule (R1-R9), and extends the
     * refusal chain of the refused record's (platform, subject):
     * `head = keccak256(abi.encode(head, keccak256(call), keccak256(revertData)))`, from zero,
     * with a count. A timeline then verifies only if it holds every attested refusal, so a
     * refusal cannot be left out of it.
     * @dev Runs `call` on this contract; nothing it would change is kept (a call that succeeds
     * makes this revert). A rule error implies the platform's signature recovered, the platform
     * holds PLATFORM_ROLE, the record's time is in the window and its `prev` is the subject's
     * head: every rule is checked after those. Only the record's platform may attest: the call
     * a refusal carries is public (it is in the platform's log), and a refusal attested again by
     * anyone else would lengthen the chain past the platform's log, so that none of the
     * subject's timelines would verify. Emits {RefusalAttested}.
     *
     * Requirements: `call` calls one of the record functions (recordBinding,
     * recordVerification, recordConsent, createLoan, disburse, repay, changeRepaymentChannel,
     * recordCollectionContact, recordDispute, recordRiskWarning); it reverts with an error of
     * R1-R9; the caller is the record's platform.
     * @param call The refused call's calldata: selector, record and signature (and schedule).
     */
    function attestRefusal(bytes calldata call) external;

    // --- Regulators and governance -----------------------------------------------------------

    /**
     * @notice Freezes or unfreezes a platform: a frozen platform's records are all refused. Its
     * log heads are still anchored (see {IAnchorRegistry-anchorHead}).
     * @dev Emits {PlatformFreezeChanged}. Requirements: the caller holds REGULATOR_ROLE.
     * @param platform The platform.
     * @param frozen Whether it is frozen from now on.
     */
    function setPlatformFrozen(address platform, bool frozen) external;

    /**
     * @notice Freezes or unfreezes a loan: records about a frozen loan are all refused, and its
     * lateness clock stands while it is frozen (R6), as for a dispute but without a limit.
     * @dev Emits {LoanFreezeChanged}. Requirements: the caller holds REGULATOR_ROLE; the loan
     * exists.
     * @param platform The loan's platform.
     * @param subject The loan's subject.
     * @param loan The loan id.
     * @param frozen Whether it is frozen from now on.
     */
    function setLoanFrozen(address platform, bytes32 subject, bytes32 loan, bool frozen) external;

    /**
     * @notice Writes off an open loan of a platform that no longer holds PLATFORM_ROLE (revoked
     * or renounced): no record of that platform can ever repay or close it, so without this it
     * would age into DEFAULTED, block its borrower at every platform (R7) and keep one of the
     * borrower's open-loan slots for good. The loan leaves the borrower's open loans; what was
     * repaid stays on record.
     * @dev Emits {LoanWrittenOff}. Requirements: the caller holds REGULATOR_ROLE; `platform`
     * does not hold PLATFORM_ROLE; the loan is DISBURSED.
     * @param platform The loan's platform.
     * @param subject The loan's subject.
     * @param loan The loan id.
     */
    function writeOffLoan(address platform, bytes32 subject, bytes32 loan) external;

    /**
     * @notice Changes one rule parameter.
     * @dev Emits {ParameterChanged}. Requirements: the caller holds DEFAULT_ADMIN_ROLE
     * (governance, behind its delay); MIN_FACTORS is 1 to 4; periods are at most 3650 days;
     * GRACE_PERIOD stays below DEFAULT_AFTER; RECORD_MAX_AGE is at least a day and
     * RECORD_MAX_SKEW at most a day. A change of a loan term (GRACE_PERIOD, DEFAULT_AFTER,
     * DISPUTE_PAUSE_LIMIT) applies to loans created after it only.
     * @param parameter The parameter.
     * @param value Its new value (factors, or seconds).
     */
    function setParameter(Parameter parameter, uint64 value) external;

    // --- Views -------------------------------------------------------------------------------

    /// @notice Returns the rule parameters in force (the terms new loans are created with).
    /// @return The current parameters.
    function parameters() external view returns (Parameters memory);

    /// @notice Returns what the rules know of `subject` at `platform`.
    /// @param platform The platform.
    /// @param subject The subject.
    /// @return The subject's state, with the head of its hash chain.
    function subjectState(address platform, bytes32 subject) external view returns (SubjectView memory);

    /// @notice Returns rule R9's state of `subject` at `platform`.
    /// @param platform The platform.
    /// @param subject The subject.
    /// @return warnedAt The time of the warning in force, zero when none stops a disbursement.
    /// @return checks The bits (1 << method) of the passed verifications since that warning.
    function riskWarningState(address platform, bytes32 subject) external view returns (uint64 warnedAt, uint8 checks);

    /// @notice Returns what the rules know of `subject` across the consortium.
    /// @param subject The subject.
    /// @return The subject's cooling, number reuse flag and number of open loans.
    function borrowerState(bytes32 subject) external view returns (BorrowerView memory);

    /// @notice Returns what the rules know of `phone` across the consortium.
    /// @param phone The phone's keyed reference.
    /// @return The phone's last holder and cooling.
    function phoneState(bytes32 phone) external view returns (PhoneView memory);

    /// @notice Returns `platform`'s loan of `subject` with its status at the current time.
    /// @param platform The loan's platform.
    /// @param subject The subject.
    /// @param loan The loan id.
    /// @return The loan's state (phase NONE when there is no such loan).
    function loanState(address platform, bytes32 subject, bytes32 loan) external view returns (LoanView memory);

    /// @notice Returns the refusal chain of `subject` at `platform` (see {attestRefusal}).
    /// @param platform The platform.
    /// @param subject The subject.
    /// @return head The chain's head, zero when no refusal was attested.
    /// @return count The number of refusals attested.
    function refusalState(address platform, bytes32 subject) external view returns (bytes32 head, uint64 count);

    /// @notice Returns whether `platform` is frozen.
    /// @param platform The platform.
    /// @return True when frozen.
    function isPlatformFrozen(address platform) external view returns (bool);
}
