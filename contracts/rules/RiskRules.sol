// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AnchorRegistry} from "../anchors/AnchorRegistry.sol";
import {IRiskRules} from "./IRiskRules.sol";

/**
 * @title RiskRules
 * @notice Enforces the repayment-risk rules (see {IRiskRules}) over platform-signed records.
 * @dev Builds on {AnchorRegistry} for its roles (PLATFORM_ROLE) and its clock ({_time}), so that
 * the contract has one notion of time that a test contract can move. Signatures are EIP-712
 * under the domain ("BindLedger", "1", chain id, this contract).
 *
 * A loan's schedule is kept as a hash only (writing it out would cost 22 100 gas per
 * installment); the contract stores the due time of the first installment not yet fully repaid,
 * which is all that the status (R6) needs, and a repayment passes the schedule again to move it.
 *
 * Every operation does bounded work, under 150 000 gas: a phone keeps only its last holder and
 * its cooling, so a signal about it costs the same however many subjects were ever bound to it;
 * a subject has at most 6 open loans, whose ids and platforms (by number, see
 * {_platformNumbers}) are kept beside its consortium-wide state.
 */
abstract contract RiskRules is IRiskRules, AnchorRegistry, EIP712 {
    /// @notice Role of the accounts that freeze and unfreeze platforms and loans.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    /// @dev Verification methods known to the rules; `factors` bits above them are not counted.
    uint8 private constant _METHOD_COUNT = 4;
    uint8 private constant _FACTOR_BITS = 0x0f;
    /// @dev Three years of monthly installments. Bounds the schedule walks of a loan creation and
    /// a repayment (about 1 000 gas per installment each) under the 150 000 gas budget of every
    /// rule operation; ledger/core/records.py MAX_INSTALLMENTS is the same.
    uint256 private constant _MAX_INSTALLMENTS = 36;
    /// @dev Open (disbursed, unrepaid) loans a subject may have across the consortium. Rebinds,
    /// liveness checks and disbursements walk them (about 5 000 gas each), so the number must be
    /// bounded for those to stay under the 150 000 gas budget.
    uint256 private constant _MAX_OPEN_LOANS = 6;
    /// @dev Open loans of a subject one platform may hold: half the subject's slots, so that no
    /// member can fill them all and shut every other member out.
    uint256 private constant _MAX_OPEN_LOANS_PER_PLATFORM = 3;
    /// @dev A schedule ends within this long after its creation: no member can create a loan
    /// whose due times lie beyond any real credit (or near the end of uint64).
    uint64 private constant _SCHEDULE_HORIZON = 5 * 365 days;
    /// @dev Longest period governance may set: far beyond any sensible one, and short enough that
    /// a time plus a period never overflows uint64.
    uint64 private constant _MAX_PERIOD = 3650 days;
    /// @dev Bounds of the record time window: a record may always be up to a day old, and never
    /// more than a day ahead of block time.
    uint64 private constant _MIN_RECORD_MAX_AGE = 1 days;
    uint64 private constant _MAX_RECORD_MAX_SKEW = 1 days;
    /// @dev Bits of one platform number in {Borrower-openPlatforms}.
    uint256 private constant _NUMBER_BITS = 24;

    uint8 private constant _BIND = 0;
    uint8 private constant _REBIND = 1;
    uint8 private constant _UNBIND = 2;
    uint8 private constant _LIVENESS = 1;
    uint8 private constant _SIM_SWAP_CHECK = 3;
    uint8 private constant _GIVEN = 0;
    uint8 private constant _REFUSED = 2;
    uint8 private constant _LENDING = 0;
    uint8 private constant _CONTACT = 1;
    uint8 private constant _MARKETING = 5; // the last purpose
    uint8 private constant _OPEN = 0;
    uint8 private constant _CLOSE = 1;

    bytes32 private constant _BINDING_TYPEHASH =
        keccak256(
            "Binding(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 action,bytes32 phone,bytes32 account,uint8 factors)"
        );
    bytes32 private constant _VERIFICATION_TYPEHASH =
        keccak256(
            "Verification(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 method,bool passed,bytes32 phone)"
        );
    bytes32 private constant _CONSENT_TYPEHASH =
        keccak256(
            "Consent(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,uint8 action,uint8 purpose,bytes32 policyHash,uint64 expiresAt)"
        );
    bytes32 private constant _LOAN_CREATION_TYPEHASH =
        keccak256(
            "LoanCreation(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint64[] dueTimes,uint128[] amounts)"
        );
    bytes32 private constant _DISBURSEMENT_TYPEHASH =
        keccak256(
            "Disbursement(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint128 amount)"
        );
    bytes32 private constant _REPAYMENT_TYPEHASH =
        keccak256(
            "Repayment(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint128 amount)"
        );
    bytes32 private constant _CHANNEL_CHANGE_TYPEHASH =
        keccak256(
            "ChannelChange(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,bytes32 channel)"
        );
    bytes32 private constant _COLLECTION_CONTACT_TYPEHASH =
        keccak256(
            "CollectionContact(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,bytes32 channel)"
        );
    bytes32 private constant _DISPUTE_TYPEHASH =
        keccak256(
            "Dispute(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 loan,uint8 action)"
        );
    bytes32 private constant _RISK_WARNING_TYPEHASH =
        keccak256(
            "RiskWarning(address platform,bytes32 subject,bytes32 prev,uint64 timestamp,bytes32 model,bytes32 features,uint16 score,uint16 threshold,uint8[] top)"
        );
    // Bits (1 << method) of the checks that clear a warning: LIVENESS and SIM_SWAP_CHECK (R9).
    uint8 private constant _WARNING_CHECKS = uint8(1 << _LIVENESS) | uint8(1 << _SIM_SWAP_CHECK);
    // A warning's scores are basis points; its top features are a few of the model's (bounded
    // so that hashing them stays cheap).
    uint16 private constant _MAX_SCORE = 10_000;
    uint256 private constant _MAX_WARNING_TOP = 36;

    /// @dev One subject at one platform: the head of its hash chain and its rule state.
    struct Subject {
        bytes32 head;
        bool bound;
        // Whether the subject was ever bound at the platform: a BIND after an UNBIND is a rebind.
        bool wasBound;
        uint8 factors;
        bool lendingConsent;
        uint64 lendingConsentExpiresAt;
        bool contactConsent;
        uint64 contactConsentExpiresAt;
        // Refusals attested (see {attestRefusal}): in the slot above, which has room.
        uint64 refusals;
        // The phone of the latest BIND or REBIND.
        bytes32 phone;
        bytes32 refusalHead;
        // R9: the time of the warning in force (zero: none), and the checks passed since it.
        uint64 warnedAt;
        uint8 warningChecks;
    }

    /// @dev One subject across the consortium, in one slot.
    struct Borrower {
        uint64 coolingEndsAt;
        uint8 openCount;
        // Its phone was bound to another subject since its last passed LIVENESS check (R5).
        bool numberReused;
        // The platform numbers of its open loans, _NUMBER_BITS each, in the order of the ids in
        // _openLoanIds.
        uint144 openPlatforms;
    }

    /// @dev One phone across the consortium: only its last holder, so the work is bounded.
    struct Phone {
        bytes32 holder;
        uint64 coolingEndsAt;
    }

    struct Loan {
        // slot 0: all that the status needs while the loan's clock runs
        uint128 total;
        // Due time of the first installment not fully repaid, plus the time the clock stood.
        uint64 nextDue;
        // Index in _terms of the loan terms in force at creation.
        uint32 terms;
        LoanPhase phase;
        bool frozen;
        bool contactRisk;
        bool disputeOpen;
        // slot 1: keccak256(abi.encode(hash of dueTimes, hash of amounts)), EIP-712 array hashes
        bytes32 scheduleHash;
        // slot 2
        uint128 repaid;
        // Since when the running pause (freeze or dispute) is not yet counted in nextDue.
        uint40 pausedSince;
        // Time disputes stood the clock, at most the terms' dispute pause limit.
        uint40 disputePaused;
        // Time the clock stood (freezes and disputes), counted in nextDue.
        uint40 pausedTotal;
    }

    /// @dev The parameters that are a loan's terms: kept per loan (by index), as at creation.
    struct LoanTerms {
        uint64 gracePeriod;
        uint64 defaultAfter;
        uint64 disputePauseLimit;
    }

    /**
     * @dev The parameters that apply to every record from their change on, and the index of the
     * loan terms in force, in the one slot every record reads.
     */
    struct RecordRules {
        uint8 minFactors;
        uint64 coolingPeriod;
        uint64 recordMaxAge;
        uint64 recordMaxSkew;
        uint32 currentTerms;
    }

    RecordRules private _recordRules;
    /// @dev Every set of loan terms ever in force, by index; `currentTerms` is in force now.
    mapping(uint256 index => LoanTerms) private _terms;
    mapping(address platform => bool) private _frozenPlatforms;
    mapping(address platform => mapping(bytes32 subject => Subject)) private _subjects;
    mapping(bytes32 subject => Borrower) private _borrowers;
    /// @dev Ids of the open loans of a subject; the first `openCount` are live.
    mapping(bytes32 subject => bytes32[6]) private _openLoanIds;
    mapping(bytes32 phone => Phone) private _phones;
    mapping(address platform => mapping(bytes32 subject => mapping(bytes32 loan => Loan))) private _loans;
    /**
     * @dev Platforms are numbered from 1 when first granted PLATFORM_ROLE, so that the platforms
     * of a subject's open loans fit in one word beside its state. A number is never reused.
     */
    mapping(address platform => uint24) private _platformNumbers;
    mapping(uint256 number => address) private _platformsByNumber;
    uint24 private _platformCount;

    constructor() EIP712("BindLedger", "1") {
        _recordRules = RecordRules({
            minFactors: 2,
            coolingPeriod: 72 hours,
            recordMaxAge: 30 days,
            recordMaxSkew: 15 minutes,
            currentTerms: 0
        });
        _terms[0] = LoanTerms({gracePeriod: 15 days, defaultAfter: 90 days, disputePauseLimit: 90 days});
    }

    // --- Records in --------------------------------------------------------------------------

    /// @inheritdoc IRiskRules
    function recordBinding(Binding calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_BINDING_TYPEHASH, record)),
            signature
        );
        uint8 action = record.action;
        bool rebound = action == _REBIND;
        if (action == _BIND) {
            if (subject.bound) revert RiskRulesAlreadyBound(record.subject);
            // Unbinding and binding again changes the number as a rebind does (R4, R5).
            rebound = subject.wasBound;
            subject.bound = true;
            subject.wasBound = true;
            subject.factors = record.factors;
        } else if (action == _REBIND || action == _UNBIND) {
            if (!subject.bound) revert RiskRulesNotBound(record.subject);
            if (action == _UNBIND) {
                subject.bound = false;
                subject.factors = 0;
            } else {
                subject.factors = record.factors;
            }
        } else {
            revert RiskRulesUnknownCode(action);
        }
        emit BindingChanged(record.platform, record.subject, action, subject.factors);
        bool reused = action != _UNBIND && _bindPhone(subject, record.platform, record.subject, record.phone);
        if (rebound || reused) {
            _coolSubject(record.platform, record.subject, _time() + _recordRules.coolingPeriod);
        }
        if (rebound) {
            _setContactRisk(record.platform, record.subject, true);
        }
    }

    /// @inheritdoc IRiskRules
    function recordVerification(Verification calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_VERIFICATION_TYPEHASH, record)),
            signature
        );
        uint8 method = record.method;
        if (method >= _METHOD_COUNT) revert RiskRulesUnknownCode(method);
        emit VerificationRecorded(record.platform, record.subject, method, record.passed);
        if (record.passed && subject.warnedAt != 0) {
            // R9: a warning is lifted once both checks have passed since it.
            uint8 checks = subject.warningChecks | uint8(1 << method);
            if (checks & _WARNING_CHECKS == _WARNING_CHECKS) {
                emit RiskWarningLifted(record.platform, record.subject, subject.warnedAt);
                subject.warnedAt = 0;
                checks = 0;
            }
            subject.warningChecks = checks;
        }
        if (method == _SIM_SWAP_CHECK && !record.passed) {
            uint64 endsAt = _time() + _recordRules.coolingPeriod;
            _coolSubject(record.platform, record.subject, endsAt);
            Phone storage phone = _phones[record.phone];
            if (endsAt > phone.coolingEndsAt) {
                phone.coolingEndsAt = endsAt;
            }
            emit PhoneCoolingStarted(record.platform, record.phone, phone.coolingEndsAt);
        } else if (method == _LIVENESS && record.passed) {
            _setContactRisk(record.platform, record.subject, false);
            Borrower storage borrower = _borrowers[record.subject];
            if (borrower.numberReused) {
                borrower.numberReused = false;
                emit NumberReuseCleared(record.platform, record.subject);
            }
        }
    }

    /// @inheritdoc IRiskRules
    function recordConsent(Consent calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_CONSENT_TYPEHASH, record)),
            signature
        );
        if (record.action > _REFUSED) revert RiskRulesUnknownCode(record.action);
        if (record.purpose > _MARKETING) revert RiskRulesUnknownCode(record.purpose);
        bool given = record.action == _GIVEN;
        uint64 expiresAt = given ? record.expiresAt : 0;
        // Only lending and contact consent gate a rule (R3); consent for another purpose is
        // accepted into the subject's chain, and the API stops that processing by it.
        if (record.purpose == _LENDING) {
            subject.lendingConsent = given;
            subject.lendingConsentExpiresAt = expiresAt;
        } else if (record.purpose == _CONTACT) {
            subject.contactConsent = given;
            subject.contactConsentExpiresAt = expiresAt;
        }
        emit ConsentChanged(record.platform, record.subject, record.purpose, given, expiresAt);
    }

    /// @inheritdoc IRiskRules
    function createLoan(LoanCreation calldata record, bytes calldata signature) external virtual {
        bytes32 dueTimesHash = _hashWords(record.dueTimes);
        bytes32 amountsHash = _hashWords(record.amounts);
        _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(
                abi.encode(
                    _LOAN_CREATION_TYPEHASH,
                    record.platform,
                    record.subject,
                    record.prev,
                    record.timestamp,
                    record.loan,
                    dueTimesHash,
                    amountsHash
                )
            ),
            signature
        );
        Loan storage loan = _loans[record.platform][record.subject][record.loan];
        if (loan.phase != LoanPhase.NONE) revert RiskRulesLoanExists(record.platform, record.subject, record.loan);
        uint256 total = _checkSchedule(record.loan, record.dueTimes, record.amounts);

        loan.total = uint128(total);
        loan.nextDue = record.dueTimes[0];
        loan.terms = _recordRules.currentTerms;
        loan.phase = LoanPhase.CREATED;
        loan.scheduleHash = keccak256(abi.encode(dueTimesHash, amountsHash));
        emit LoanCreated(record.platform, record.subject, record.loan, record.dueTimes.length, total);
    }

    /// @inheritdoc IRiskRules
    function disburse(Disbursement calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_DISBURSEMENT_TYPEHASH, record)),
            signature
        );
        Loan storage loan = _loanOf(record.platform, record.subject, record.loan);
        if (loan.phase != LoanPhase.CREATED) {
            revert RiskRulesWrongLoanPhase(record.loan, loan.phase, LoanPhase.CREATED);
        }
        uint128 total = loan.total;
        if (record.amount != total) {
            revert RiskRulesDisbursementNotScheduleTotal(record.loan, record.amount, total);
        }
        _checkMayDisburse(subject, record.subject);
        _addOpenLoan(record.platform, record.subject, record.loan);
        loan.phase = LoanPhase.DISBURSED;
        emit LoanDisbursed(record.platform, record.subject, record.loan, record.amount);
    }

    /// @inheritdoc IRiskRules
    function recordRiskWarning(RiskWarning calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            _riskWarningHash(record),
            signature
        );
        uint16 score = record.score;
        uint16 threshold = record.threshold;
        uint256 topCount = record.top.length;
        if (score < threshold || score > _MAX_SCORE || topCount > _MAX_WARNING_TOP) {
            revert RiskRulesInvalidWarning(score, threshold, topCount);
        }
        // Zero means "no warning": a warning stamped at time zero still stops disbursements.
        uint64 warnedAt = record.timestamp;
        subject.warnedAt = warnedAt == 0 ? 1 : warnedAt;
        subject.warningChecks = 0;
        emit RiskWarningRecorded(record.platform, record.subject, score, threshold);
    }

    /// @inheritdoc IRiskRules
    function repay(
        Repayment calldata record,
        bytes calldata signature,
        uint64[] calldata dueTimes,
        uint128[] calldata amounts
    ) external virtual {
        _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_REPAYMENT_TYPEHASH, record)),
            signature
        );
        Loan storage loan = _loanOf(record.platform, record.subject, record.loan);
        if (loan.phase != LoanPhase.DISBURSED) {
            revert RiskRulesWrongLoanPhase(record.loan, loan.phase, LoanPhase.DISBURSED);
        }
        bytes32 scheduleHash = keccak256(abi.encode(_hashWords(dueTimes), _hashWords(amounts)));
        if (scheduleHash != loan.scheduleHash) revert RiskRulesScheduleMismatch(record.loan);
        uint128 amount = record.amount;
        if (amount == 0) revert RiskRulesZeroRepayment(record.loan);
        uint128 total = loan.total;
        uint128 repaid = loan.repaid;
        // repaid <= total always holds: no subtraction or sum below can overflow.
        uint128 owed = total - repaid;
        if (amount > owed) revert RiskRulesRepaymentExceedsOwed(record.loan, amount, owed);
        repaid += amount;
        loan.repaid = repaid;
        emit RepaymentRecorded(record.platform, record.subject, record.loan, amount, repaid);

        if (repaid == total) {
            loan.phase = LoanPhase.REPAID;
            _removeOpenLoan(record.platform, record.subject, record.loan);
            emit LoanRepaid(record.platform, record.subject, record.loan);
            return;
        }
        uint256 cumulative;
        uint256 count = amounts.length;
        for (uint256 i = 0; i < count; ++i) {
            cumulative += amounts[i];
            if (repaid < cumulative) {
                loan.nextDue = dueTimes[i] + loan.pausedTotal;
                return;
            }
        }
    }

    /// @inheritdoc IRiskRules
    function changeRepaymentChannel(ChannelChange calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_CHANNEL_CHANGE_TYPEHASH, record)),
            signature
        );
        _loanOf(record.platform, record.subject, record.loan);
        _checkCooling(subject, record.subject);
        emit RepaymentChannelChanged(record.platform, record.subject, record.loan, record.channel);
    }

    /// @inheritdoc IRiskRules
    function recordCollectionContact(CollectionContact calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_COLLECTION_CONTACT_TYPEHASH, record)),
            signature
        );
        _loanOf(record.platform, record.subject, record.loan);
        _checkConsent(record.subject, _CONTACT, subject.contactConsent, subject.contactConsentExpiresAt);
        emit CollectionContactRecorded(record.platform, record.subject, record.loan, record.channel);
    }

    /// @inheritdoc IRiskRules
    function recordDispute(Dispute calldata record, bytes calldata signature) external virtual {
        _accept(
            record.platform,
            record.subject,
            record.prev,
            record.timestamp,
            keccak256(abi.encode(_DISPUTE_TYPEHASH, record)),
            signature
        );
        Loan storage loan = _loanOf(record.platform, record.subject, record.loan);
        uint8 action = record.action;
        if (action > _CLOSE) revert RiskRulesUnknownCode(action);
        bool open = loan.disputeOpen;
        if (open == (action == _OPEN)) revert RiskRulesDisputeState(record.loan, open);
        uint64 time = _time();
        _settlePause(loan, time);
        loan.disputeOpen = !open;
        if (action == _OPEN) {
            emit DisputeOpened(record.platform, record.subject, record.loan, time);
        } else {
            emit DisputeClosed(record.platform, record.subject, record.loan, loan.pausedTotal);
        }
    }

    /// @inheritdoc IRiskRules
    function attestRefusal(bytes calldata call) external virtual {
        bytes4 selector = bytes4(call);
        if (!_isRecordFunction(selector)) revert RiskRulesNotARuleCall(selector);
        (bool accepted, bytes memory revertData) = address(this).call(call);
        if (accepted) revert RiskRulesCallNotRefused();
        if (!_isRuleError(bytes4(revertData))) revert RiskRulesNotARuleRefusal(revertData);
        // The record is the first argument: inline, or (createLoan's and recordRiskWarning's,
        // with arrays) at an offset. The refused call was decoded before it reached a rule, so
        // both reads are in bounds.
        uint256 offset = 4;
        if (selector == IRiskRules.createLoan.selector || selector == IRiskRules.recordRiskWarning.selector) {
            offset += uint256(bytes32(call[4:36]));
        }
        (address platform, bytes32 subjectId) = abi.decode(call[offset:], (address, bytes32));
        if (msg.sender != platform) revert RiskRulesNotRecordPlatform(msg.sender, platform);
        Subject storage subject = _subjects[platform][subjectId];
        bytes32 head = keccak256(abi.encode(subject.refusalHead, keccak256(call), keccak256(revertData)));
        subject.refusalHead = head;
        uint64 count = ++subject.refusals;
        emit RefusalAttested(platform, subjectId, count, head, revertData);
    }

    // --- Regulators and governance -----------------------------------------------------------

    /// @inheritdoc IRiskRules
    function setPlatformFrozen(address platform, bool frozen) external virtual onlyRole(REGULATOR_ROLE) {
        _frozenPlatforms[platform] = frozen;
        emit PlatformFreezeChanged(platform, frozen, _msgSender());
    }

    /// @inheritdoc IRiskRules
    function setLoanFrozen(
        address platform,
        bytes32 subject,
        bytes32 loanId,
        bool frozen
    ) external virtual onlyRole(REGULATOR_ROLE) {
        Loan storage loan = _loans[platform][subject][loanId];
        if (loan.phase == LoanPhase.NONE) revert RiskRulesUnknownLoan(platform, subject, loanId);
        // The time frozen so far is counted first: a freeze stands the clock (R6).
        _settlePause(loan, _time());
        loan.frozen = frozen;
        emit LoanFreezeChanged(platform, subject, loanId, frozen, loan.pausedTotal, _msgSender());
    }

    /// @inheritdoc IRiskRules
    function writeOffLoan(address platform, bytes32 subject, bytes32 loanId) external virtual onlyRole(REGULATOR_ROLE) {
        if (hasRole(PLATFORM_ROLE, platform)) revert RiskRulesPlatformStillMember(platform);
        Loan storage loan = _loans[platform][subject][loanId];
        LoanPhase phase = loan.phase;
        if (phase == LoanPhase.NONE) revert RiskRulesUnknownLoan(platform, subject, loanId);
        if (phase != LoanPhase.DISBURSED) revert RiskRulesWrongLoanPhase(loanId, phase, LoanPhase.DISBURSED);
        loan.phase = LoanPhase.WRITTEN_OFF;
        _removeOpenLoan(platform, subject, loanId);
        emit LoanWrittenOff(platform, subject, loanId, loan.repaid, _msgSender());
    }

    /// @inheritdoc IRiskRules
    function setParameter(Parameter parameter, uint64 value) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        RecordRules storage rules = _recordRules;
        uint64 previous;
        if (parameter == Parameter.MIN_FACTORS) {
            if (value == 0 || value > _METHOD_COUNT) revert RiskRulesInvalidParameter(parameter, value);
            previous = rules.minFactors;
            rules.minFactors = uint8(value);
            emit ParameterChanged(parameter, previous, value);
            return;
        }
        if (value > _MAX_PERIOD) revert RiskRulesInvalidParameter(parameter, value);
        if (parameter == Parameter.COOLING_PERIOD) {
            previous = rules.coolingPeriod;
            rules.coolingPeriod = value;
        } else if (parameter == Parameter.RECORD_MAX_AGE) {
            if (value < _MIN_RECORD_MAX_AGE) revert RiskRulesInvalidParameter(parameter, value);
            previous = rules.recordMaxAge;
            rules.recordMaxAge = value;
        } else if (parameter == Parameter.RECORD_MAX_SKEW) {
            if (value > _MAX_RECORD_MAX_SKEW) revert RiskRulesInvalidParameter(parameter, value);
            previous = rules.recordMaxSkew;
            rules.recordMaxSkew = value;
        } else {
            // A loan term: new terms for loans created from now on; existing loans keep theirs.
            uint32 current = rules.currentTerms;
            LoanTerms memory terms = _terms[current];
            if (parameter == Parameter.GRACE_PERIOD) {
                if (value >= terms.defaultAfter) revert RiskRulesInvalidParameter(parameter, value);
                previous = terms.gracePeriod;
                terms.gracePeriod = value;
            } else if (parameter == Parameter.DEFAULT_AFTER) {
                if (value <= terms.gracePeriod) revert RiskRulesInvalidParameter(parameter, value);
                previous = terms.defaultAfter;
                terms.defaultAfter = value;
            } else {
                previous = terms.disputePauseLimit;
                terms.disputePauseLimit = value;
            }
            _terms[++current] = terms;
            rules.currentTerms = current;
        }
        emit ParameterChanged(parameter, previous, value);
    }

    // --- Views -------------------------------------------------------------------------------

    /// @inheritdoc IRiskRules
    function parameters() external view virtual returns (Parameters memory) {
        RecordRules memory rules = _recordRules;
        LoanTerms memory terms = _terms[rules.currentTerms];
        return
            Parameters({
                minFactors: rules.minFactors,
                coolingPeriod: rules.coolingPeriod,
                gracePeriod: terms.gracePeriod,
                defaultAfter: terms.defaultAfter,
                disputePauseLimit: terms.disputePauseLimit,
                recordMaxAge: rules.recordMaxAge,
                recordMaxSkew: rules.recordMaxSkew
            });
    }

    /// @inheritdoc IRiskRules
    function subjectState(address platform, bytes32 subject) external view virtual returns (SubjectView memory) {
        Subject storage s = _subjects[platform][subject];
        uint64 coolingEndsAt = _borrowers[subject].coolingEndsAt;
        uint64 phoneCoolingEndsAt = _phones[s.phone].coolingEndsAt;
        return
            SubjectView({
                head: s.head,
                bound: s.bound,
                factors: s.factors,
                coolingEndsAt: phoneCoolingEndsAt > coolingEndsAt ? phoneCoolingEndsAt : coolingEndsAt,
                lendingConsent: s.lendingConsent,
                lendingConsentExpiresAt: s.lendingConsentExpiresAt,
                contactConsent: s.contactConsent,
                contactConsentExpiresAt: s.contactConsentExpiresAt,
                phone: s.phone
            });
    }

    /// @inheritdoc IRiskRules
    function riskWarningState(
        address platform,
        bytes32 subject
    ) external view virtual returns (uint64 warnedAt, uint8 checks) {
        Subject storage s = _subjects[platform][subject];
        return (s.warnedAt, s.warningChecks);
    }

    /// @inheritdoc IRiskRules
    function borrowerState(bytes32 subject) external view virtual returns (BorrowerView memory) {
        Borrower storage borrower = _borrowers[subject];
        return
            BorrowerView({
                coolingEndsAt: borrower.coolingEndsAt,
                numberReused: borrower.numberReused,
                openLoans: borrower.openCount
            });
    }

    /// @inheritdoc IRiskRules
    function phoneState(bytes32 phone) external view virtual returns (PhoneView memory) {
        Phone storage p = _phones[phone];
        return PhoneView({holder: p.holder, coolingEndsAt: p.coolingEndsAt});
    }

    /// @inheritdoc IRiskRules
    function loanState(
        address platform,
        bytes32 subject,
        bytes32 loanId
    ) external view virtual returns (LoanView memory) {
        Loan storage loan = _loans[platform][subject][loanId];
        return
            LoanView({
                phase: loan.phase,
                status: _status(loan, _time()),
                contactRisk: loan.contactRisk ||
                    (loan.phase == LoanPhase.DISBURSED && _borrowers[subject].numberReused),
                frozen: loan.frozen,
                disputeOpen: loan.disputeOpen,
                nextDue: loan.nextDue,
                total: loan.total,
                repaid: loan.repaid,
                pausedTotal: loan.pausedTotal,
                disputePaused: loan.disputePaused
            });
    }

    /// @inheritdoc IRiskRules
    function refusalState(
        address platform,
        bytes32 subject
    ) external view virtual returns (bytes32 head, uint64 count) {
        Subject storage s = _subjects[platform][subject];
        return (s.refusalHead, s.refusals);
    }

    /// @inheritdoc IRiskRules
    function isPlatformFrozen(address platform) external view virtual returns (bool) {
        return _frozenPlatforms[platform];
    }

    /// @inheritdoc AnchorRegistry
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IRiskRules).interfaceId || super.supportsInterface(interfaceId);
    }

    // --- Internals ---------------------------------------------------------------------------

    /// @dev Numbers a platform the first time it is granted PLATFORM_ROLE (see {_platformNumbers}).
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == PLATFORM_ROLE && _platformNumbers[account] == 0) {
            uint24 number = SafeCast.toUint24(uint256(_platformCount) + 1);
            _platformCount = number;
            _platformNumbers[account] = number;
            _platformsByNumber[number] = account;
        }
    }

    /**
     * @dev Checks the platform's signature, role and freeze, the record's time, and that the
     * record extends the (platform, subject) hash chain; then makes the record's hash the
     * chain's head.
     */
    function _accept(
        address platform,
        bytes32 subjectId,
        bytes32 prev,
        uint64 timestamp,
        bytes32 structHash,
        bytes calldata signature
    ) private returns (Subject storage subject) {
        bytes32 digest = _hashTypedDataV4(structHash);
        (address recovered, ECDSA.RecoverError recoverError, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (recoverError != ECDSA.RecoverError.NoError || recovered != platform) {
            revert RiskRulesWrongSigner(recovered, platform);
        }
        _checkRole(PLATFORM_ROLE, platform);
        if (_frozenPlatforms[platform]) revert RiskRulesPlatformFrozen(platform);
        _checkRecordTime(timestamp);

        subject = _subjects[platform][subjectId];
        bytes32 head = subject.head;
        if (prev != head) {
            if (digest == head) revert RiskRulesReplayedRecord(subjectId, digest);
            revert RiskRulesBrokenChain(subjectId, head, prev);
        }
        subject.head = digest;
        emit RecordAccepted(platform, subjectId, digest);
    }

    /// @dev The record's timestamp lies within [time - recordMaxAge, time + recordMaxSkew].
    function _checkRecordTime(uint64 timestamp) private view {
        RecordRules storage rules = _recordRules;
        uint256 time = _time();
        // In uint256: no time near 2^64 can overflow the bounds.
        uint256 latest = time + rules.recordMaxSkew;
        if (timestamp > latest) revert RiskRulesRecordTimeInFuture(timestamp, uint64(latest));
        uint256 maxAge = rules.recordMaxAge;
        if (time > maxAge && timestamp < time - maxAge) {
            revert RiskRulesRecordTimeTooOld(timestamp, uint64(time - maxAge));
        }
    }

    /**
     * @dev The EIP-712 struct hash of a risk warning. Its `top` array is encoded as EIP-712
     * encodes arrays, the keccak256 of its elements each padded to 32 bytes (as
     * abi.encodePacked pads array elements); the struct is too deep to abi.encode at once.
     */
    function _riskWarningHash(RiskWarning calldata record) private pure returns (bytes32) {
        return
            keccak256(
                bytes.concat(
                    abi.encode(_RISK_WARNING_TYPEHASH, record.platform, record.subject, record.prev, record.timestamp),
                    abi.encode(
                        record.model,
                        record.features,
                        record.score,
                        record.threshold,
                        keccak256(abi.encodePacked(record.top))
                    )
                )
            );
    }

    /// @dev Returns the platform's loan of the subject; reverts if there is none or it is frozen.
    function _loanOf(address platform, bytes32 subject, bytes32 loanId) private view returns (Loan storage loan) {
        loan = _loans[platform][subject][loanId];
        if (loan.phase == LoanPhase.NONE) revert RiskRulesUnknownLoan(platform, subject, loanId);
        if (loan.frozen) revert RiskRulesLoanFrozen(platform, subject, loanId);
    }

    /// @dev Rules R1, R2, R3, R4 and R9 for a disbursement (R7 is checked as the loan is added).
    function _checkMayDisburse(Subject storage subject, bytes32 subjectId) private view {
        if (!subject.bound) revert RiskRulesNoActiveBinding(subjectId);
        uint8 required = _recordRules.minFactors;
        uint8 factors = _countFactors(subject.factors);
        if (factors < required) revert RiskRulesTooFewFactors(subjectId, factors, required);
        _checkConsent(subjectId, _LENDING, subject.lendingConsent, subject.lendingConsentExpiresAt);
        _checkCooling(subject, subjectId);
        uint64 warnedAt = subject.warnedAt;
        if (warnedAt != 0) revert RiskRulesRiskWarning(subjectId, warnedAt);
    }

    /// @dev Rule R4: neither the subject nor the phone it is bound to is cooling.
    function _checkCooling(Subject storage subject, bytes32 subjectId) private view {
        uint64 time = _time();
        uint64 endsAt = _borrowers[subjectId].coolingEndsAt;
        if (time < endsAt) revert RiskRulesCoolingPeriod(subjectId, endsAt);
        bytes32 phone = subject.phone;
        endsAt = _phones[phone].coolingEndsAt;
        if (time < endsAt) revert RiskRulesPhoneCoolingPeriod(subjectId, phone, endsAt);
    }

    /// @dev Rule R3: consent for `purpose` given and not expired.
    function _checkConsent(bytes32 subjectId, uint8 purpose, bool given, uint64 expiresAt) private view {
        if (!given) revert RiskRulesNoConsent(subjectId, purpose);
        if (expiresAt <= _time()) revert RiskRulesConsentExpired(subjectId, purpose, expiresAt);
    }

    /**
     * @dev Rule R7: walks the subject's open loans (none may be DELINQUENT or DEFAULTED), checks
     * the bounds on their number, then adds the platform's loan to them.
     */
    function _addOpenLoan(address platform, bytes32 subjectId, bytes32 loanId) private {
        Borrower storage borrower = _borrowers[subjectId];
        uint256 count = borrower.openCount;
        uint144 platforms = borrower.openPlatforms;
        uint256 own = _platformNumbers[platform];
        uint256 share = _checkArrears(subjectId, count, platforms, own);
        if (count >= _MAX_OPEN_LOANS) revert RiskRulesTooManyOpenLoans(subjectId, count);
        if (share >= _MAX_OPEN_LOANS_PER_PLATFORM) revert RiskRulesPlatformShareOfOpenLoans(subjectId, platform, share);
        _openLoanIds[subjectId][count] = loanId;
        borrower.openPlatforms = uint144(platforms | (own << (_NUMBER_BITS * count)));
        borrower.openCount = uint8(count + 1);
    }

    /// @dev Rule R7 over the subject's `count` open loans; returns how many are platform `own`'s.
    function _checkArrears(
        bytes32 subjectId,
        uint256 count,
        uint256 platforms,
        uint256 own
    ) private view returns (uint256 share) {
        bytes32[6] storage ids = _openLoanIds[subjectId];
        uint64 time = _time();
        for (uint256 i = 0; i < count; ++i) {
            uint256 number = _numberAt(platforms, i);
            if (number == own) ++share;
            address lender = _platformsByNumber[number];
            bytes32 openId = ids[i];
            LoanStatus status = _status(_loans[lender][subjectId][openId], time);
            if (status >= LoanStatus.DELINQUENT) {
                revert RiskRulesSubjectInArrears(subjectId, lender, openId, uint8(status));
            }
        }
    }

    /**
     * @dev Removes a closed loan from its subject's open loans (moves the last into its place).
     * A search, not a stored index: there are at most _MAX_OPEN_LOANS.
     */
    function _removeOpenLoan(address platform, bytes32 subjectId, bytes32 loanId) private {
        Borrower storage borrower = _borrowers[subjectId];
        bytes32[6] storage ids = _openLoanIds[subjectId];
        uint256 last = borrower.openCount - 1;
        uint256 platforms = borrower.openPlatforms;
        uint256 own = _platformNumbers[platform];
        uint256 i = 0;
        while (ids[i] != loanId || _numberAt(platforms, i) != own) ++i;
        uint256 mask = (1 << _NUMBER_BITS) - 1;
        if (i != last) {
            ids[i] = ids[last];
            uint256 shift = _NUMBER_BITS * i;
            platforms = (platforms & ~(mask << shift)) | (_numberAt(platforms, last) << shift);
        }
        // The id left past the end stays: overwriting it later costs less than clearing it now.
        borrower.openPlatforms = uint144(platforms & ~(mask << (_NUMBER_BITS * last)));
        borrower.openCount = uint8(last);
    }

    /// @dev The platform number at position `i` of a packed list.
    function _numberAt(uint256 platforms, uint256 i) private pure returns (uint256) {
        return (platforms >> (_NUMBER_BITS * i)) & ((1 << _NUMBER_BITS) - 1);
    }

    /// @dev Rule R6: the loan's status at `time`, the time its clock stood taken out.
    function _status(Loan storage loan, uint64 time) private view returns (LoanStatus) {
        if (loan.phase != LoanPhase.DISBURSED) return LoanStatus.CURRENT;
        uint256 nextDue = loan.nextDue;
        if (loan.frozen || loan.disputeOpen) nextDue += _runningPause(loan, time);
        if (time <= nextDue) return LoanStatus.CURRENT;
        uint256 late = time - nextDue;
        LoanTerms storage terms = _terms[loan.terms];
        if (late <= terms.gracePeriod) return LoanStatus.GRACE;
        if (late < terms.defaultAfter) return LoanStatus.DELINQUENT;
        return LoanStatus.DEFAULTED;
    }

    /**
     * @dev How long the loan's clock has stood since `pausedSince` and not yet been counted: all
     * of it while frozen; while only a dispute is open, no more than what is left of the terms'
     * dispute pause limit.
     */
    function _runningPause(Loan storage loan, uint64 time) private view returns (uint256) {
        uint256 since = loan.pausedSince;
        uint256 elapsed = time > since ? time - since : 0;
        if (loan.frozen) return elapsed;
        uint256 limit = _terms[loan.terms].disputePauseLimit;
        uint256 used = loan.disputePaused;
        uint256 left = limit > used ? limit - used : 0;
        return elapsed < left ? elapsed : left;
    }

    /// @dev Counts the running pause into the loan's due time, before a freeze or dispute changes.
    function _settlePause(Loan storage loan, uint64 time) private {
        if (loan.frozen || loan.disputeOpen) {
            uint256 paused = _runningPause(loan, time);
            if (!loan.frozen) loan.disputePaused = SafeCast.toUint40(loan.disputePaused + paused);
            loan.pausedTotal = SafeCast.toUint40(loan.pausedTotal + paused);
            loan.nextDue = SafeCast.toUint64(loan.nextDue + paused);
        }
        loan.pausedSince = SafeCast.toUint40(time);
    }

    /// @dev Rule R4: starts (or extends) the subject's cooling period at every platform.
    function _coolSubject(address platform, bytes32 subjectId, uint64 endsAt) private {
        Borrower storage borrower = _borrowers[subjectId];
        if (endsAt > borrower.coolingEndsAt) {
            borrower.coolingEndsAt = endsAt;
        }
        emit CoolingPeriodStarted(platform, subjectId, borrower.coolingEndsAt);
    }

    /**
     * @dev Binds the subject to `phone` and makes it the phone's holder. Returns whether the phone
     * was last bound to another subject (a number reuse): that subject cools and its open loans
     * are at contact risk (R4, R5).
     */
    function _bindPhone(
        Subject storage subject,
        address platform,
        bytes32 subjectId,
        bytes32 phone
    ) private returns (bool reused) {
        if (subject.phone != phone) subject.phone = phone;
        Phone storage p = _phones[phone];
        bytes32 holder = p.holder;
        if (holder == subjectId) return false;
        p.holder = subjectId;
        if (holder == bytes32(0)) return false;
        emit NumberReused(platform, phone, holder, subjectId);
        _borrowers[holder].numberReused = true;
        _coolSubject(platform, holder, _time() + _recordRules.coolingPeriod);
        return true;
    }

    /// @dev Rule R5: sets or clears the contact-risk flag of the subject's open loans at the platform.
    function _setContactRisk(address platform, bytes32 subjectId, bool flagged) private {
        Borrower storage borrower = _borrowers[subjectId];
        uint256 count = borrower.openCount;
        if (count == 0) return;
        uint256 platforms = borrower.openPlatforms;
        uint256 own = _platformNumbers[platform];
        bytes32[6] storage ids = _openLoanIds[subjectId];
        for (uint256 i = 0; i < count; ++i) {
            if (_numberAt(platforms, i) != own) continue;
            bytes32 loanId = ids[i];
            Loan storage loan = _loans[platform][subjectId][loanId];
            if (loan.contactRisk == flagged) continue;
            loan.contactRisk = flagged;
            if (flagged) {
                emit ContactRiskFlagged(platform, subjectId, loanId);
            } else {
                emit ContactRiskCleared(platform, subjectId, loanId);
            }
        }
    }

    /// @dev Checks a schedule (see {createLoan}); returns the sum of its amounts.
    function _checkSchedule(
        bytes32 loanId,
        uint64[] calldata dueTimes,
        uint128[] calldata amounts
    ) private view returns (uint256 total) {
        uint256 count = dueTimes.length;
        if (count == 0 || count != amounts.length || count > _MAX_INSTALLMENTS) {
            revert RiskRulesInvalidSchedule(loanId, 0);
        }
        uint64 previousDue = 0;
        for (uint256 i = 0; i < count; ++i) {
            uint64 due = dueTimes[i];
            uint128 amount = amounts[i];
            if (amount == 0 || due <= previousDue) revert RiskRulesInvalidSchedule(loanId, i);
            // At most 36 amounts below 2^128 each: the uint256 sum cannot overflow.
            unchecked {
                total += amount;
            }
            previousDue = due;
        }
        // Totals and repaid amounts are kept as uint128.
        if (total > type(uint128).max) revert RiskRulesInvalidSchedule(loanId, count - 1);
        // No loan may be due at once (late at once, at every platform: R7), nor due beyond any
        // real credit's term (where its arithmetic would near the end of uint64).
        uint64 time = _time();
        if (dueTimes[0] <= time) revert RiskRulesScheduleNotInFuture(loanId, dueTimes[0], time);
        uint64 horizon = time + _SCHEDULE_HORIZON;
        if (previousDue > horizon) revert RiskRulesScheduleBeyondHorizon(loanId, previousDue, horizon);
    }

    /**
     * @dev The EIP-712 hash of a uint64[]: keccak256 of its elements as 32-byte words, which is
     * how they lie in calldata, so they are hashed where they lie. An element with dirty high
     * bits changes the hash (and so the signer recovered); {_checkSchedule} reads every element
     * through the ABI decoder, which refuses it anyway.
     */
    function _hashWords(uint64[] calldata words) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let size := shl(5, words.length)
            let free := mload(0x40)
            calldatacopy(free, words.offset, size)
            result := keccak256(free, size)
        }
    }

    /// @dev As {_hashWords} above, for a uint128[].
    function _hashWords(uint128[] calldata words) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let size := shl(5, words.length)
            let free := mload(0x40)
            calldatacopy(free, words.offset, size)
            result := keccak256(free, size)
        }
    }

    /// @dev Whether `selector` is that of a function taking a signed record.
    function _isRecordFunction(bytes4 selector) private pure returns (bool) {
        return
            selector == IRiskRules.recordBinding.selector ||
            selector == IRiskRules.recordVerification.selector ||
            selector == IRiskRules.recordConsent.selector ||
            selector == IRiskRules.createLoan.selector ||
            selector == IRiskRules.disburse.selector ||
            selector == IRiskRules.repay.selector ||
            selector == IRiskRules.changeRepaymentChannel.selector ||
            selector == IRiskRules.recordCollectionContact.selector ||
            selector == IRiskRules.recordDispute.selector ||
            selector == IRiskRules.recordRiskWarning.selector;
    }

    /// @dev Whether `selector` is that of an error of a rule (R1-R9) a record can break.
    function _isRuleError(bytes4 selector) private pure returns (bool) {
        return
            selector == RiskRulesNoActiveBinding.selector ||
            selector == RiskRulesTooFewFactors.selector ||
            selector == RiskRulesNoConsent.selector ||
            selector == RiskRulesConsentExpired.selector ||
            selector == RiskRulesCoolingPeriod.selector ||
            selector == RiskRulesPhoneCoolingPeriod.selector ||
            selector == RiskRulesSubjectInArrears.selector ||
            selector == RiskRulesTooManyOpenLoans.selector ||
            selector == RiskRulesPlatformShareOfOpenLoans.selector ||
            selector == RiskRulesPlatformFrozen.selector ||
            selector == RiskRulesLoanFrozen.selector ||
            selector == RiskRulesRiskWarning.selector;
    }

    /// @dev The number of distinct known verification methods in a `factors` bit set.
    function _countFactors(uint8 factors) private pure returns (uint8 count) {
        factors &= _FACTOR_BITS;
        while (factors != 0) {
            factors &= factors - 1;
            ++count;
        }
    }
}
