// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

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
    /// @dev Longest period governance may set: far beyond any sensible one, and short enough that
    /// a time plus a period never overflows uint64.
    uint64 private constant _MAX_PERIOD = 3650 days;

    uint8 private constant _BIND = 0;
    uint8 private constant _REBIND = 1;
    uint8 private constant _UNBIND = 2;
    uint8 private constant _LIVENESS = 1;
    uint8 private constant _SIM_SWAP_CHECK = 3;
    uint8 private constant _GIVEN = 0;
    uint8 private constant _WITHDRAWN = 1;
    uint8 private constant _LENDING = 0;
    uint8 private constant _CONTACT = 1;
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

    /// @dev One subject at one platform: the head of its hash chain and its rule state.
    struct Subject {
        bytes32 head;
        bool bound;
        // Whether the subject was ever bound at the platform: a BIND after an UNBIND is a rebind.
        bool wasBound;
        uint8 factors;
        uint64 coolingEndsAt;
        bool lendingConsent;
        uint64 lendingConsentExpiresAt;
        bool contactConsent;
        uint64 contactConsentExpiresAt;
    }

    struct Loan {
        // slot 0: all that the status needs while no dispute is open
        address platform;
        // Due time of the first installment not fully repaid, plus the time disputes were open.
        uint64 nextDue;
        LoanPhase phase;
        bool frozen;
        bool contactRisk;
        bool disputeOpen;
        // slot 1: keccak256(abi.encode(hash of dueTimes, hash of amounts)), EIP-712 array hashes
        bytes32 scheduleHash;
        // slot 2
        uint128 repaid;
        uint64 disputeOpenedAt;
        uint64 pausedTotal;
    }

    Parameters private _parameters;
    mapping(address platform => bool) private _frozenPlatforms;
    mapping(address platform => mapping(bytes32 subject => Subject)) private _subjects;
    mapping(bytes32 subject => mapping(bytes32 loan => Loan)) private _loans;
    /// @dev Disbursed, not yet repaid loans of a subject, at every platform (R5, R7).
    mapping(bytes32 subject => bytes32[]) private _openLoans;

    constructor() EIP712("BindLedger", "1") {
        _parameters = Parameters({
            minFactors: 2,
            coolingPeriod: 72 hours,
            gracePeriod: 15 days,
            defaultAfter: 90 days
        });
    }

    // --- Records in --------------------------------------------------------------------------

    /// @inheritdoc IRiskRules
    function recordBinding(Binding calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
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
        if (rebound) {
            _startCooling(subject, record.platform, record.subject);
            _setContactRisk(record.platform, record.subject, true);
        }
    }

    /// @inheritdoc IRiskRules
    function recordVerification(Verification calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            keccak256(abi.encode(_VERIFICATION_TYPEHASH, record)),
            signature
        );
        uint8 method = record.method;
        if (method >= _METHOD_COUNT) revert RiskRulesUnknownCode(method);
        emit VerificationRecorded(record.platform, record.subject, method, record.passed);
        if (method == _SIM_SWAP_CHECK && !record.passed) {
            _startCooling(subject, record.platform, record.subject);
        } else if (method == _LIVENESS && record.passed) {
            _setContactRisk(record.platform, record.subject, false);
        }
    }

    /// @inheritdoc IRiskRules
    function recordConsent(Consent calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            keccak256(abi.encode(_CONSENT_TYPEHASH, record)),
            signature
        );
        if (record.action > _WITHDRAWN) revert RiskRulesUnknownCode(record.action);
        if (record.purpose > _CONTACT) revert RiskRulesUnknownCode(record.purpose);
        bool given = record.action == _GIVEN;
        uint64 expiresAt = given ? record.expiresAt : 0;
        if (record.purpose == _LENDING) {
            subject.lendingConsent = given;
            subject.lendingConsentExpiresAt = expiresAt;
        } else {
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
        Loan storage loan = _loans[record.subject][record.loan];
        if (loan.phase != LoanPhase.NONE) revert RiskRulesLoanExists(record.subject, record.loan);
        uint256 total = _checkSchedule(record.loan, record.dueTimes, record.amounts);

        loan.platform = record.platform;
        loan.nextDue = record.dueTimes[0];
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
            keccak256(abi.encode(_DISBURSEMENT_TYPEHASH, record)),
            signature
        );
        Loan storage loan = _loanOf(record.platform, record.subject, record.loan);
        if (loan.phase != LoanPhase.CREATED) {
            revert RiskRulesWrongLoanPhase(record.loan, loan.phase, LoanPhase.CREATED);
        }
        _checkMayDisburse(subject, record.subject);

        bytes32[] storage open = _openLoans[record.subject];
        if (open.length >= _MAX_OPEN_LOANS) revert RiskRulesTooManyOpenLoans(record.subject, open.length);
        open.push(record.loan);
        loan.phase = LoanPhase.DISBURSED;
        emit LoanDisbursed(record.platform, record.subject, record.loan, record.amount);
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
            keccak256(abi.encode(_REPAYMENT_TYPEHASH, record)),
            signature
        );
        Loan storage loan = _loanOf(record.platform, record.subject, record.loan);
        if (loan.phase != LoanPhase.DISBURSED) {
            revert RiskRulesWrongLoanPhase(record.loan, loan.phase, LoanPhase.DISBURSED);
        }
        bytes32 scheduleHash = keccak256(abi.encode(_hashWords(dueTimes), _hashWords(amounts)));
        if (scheduleHash != loan.scheduleHash) revert RiskRulesScheduleMismatch(record.loan);

        uint128 repaid = loan.repaid + record.amount;
        loan.repaid = repaid;
        emit RepaymentRecorded(record.platform, record.subject, record.loan, record.amount, repaid);

        uint256 owed;
        uint256 count = amounts.length;
        for (uint256 i = 0; i < count; ++i) {
            owed += amounts[i];
            if (repaid < owed) {
                loan.nextDue = dueTimes[i] + loan.pausedTotal;
                return;
            }
        }
        loan.phase = LoanPhase.REPAID;
        _removeOpenLoan(record.subject, record.loan);
        emit LoanRepaid(record.platform, record.subject, record.loan);
    }

    /// @inheritdoc IRiskRules
    function changeRepaymentChannel(ChannelChange calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
            keccak256(abi.encode(_CHANNEL_CHANGE_TYPEHASH, record)),
            signature
        );
        _loanOf(record.platform, record.subject, record.loan);
        uint64 coolingEndsAt = subject.coolingEndsAt;
        if (_time() < coolingEndsAt) revert RiskRulesCoolingPeriod(record.subject, coolingEndsAt);
        emit RepaymentChannelChanged(record.platform, record.subject, record.loan, record.channel);
    }

    /// @inheritdoc IRiskRules
    function recordCollectionContact(CollectionContact calldata record, bytes calldata signature) external virtual {
        Subject storage subject = _accept(
            record.platform,
            record.subject,
            record.prev,
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
            keccak256(abi.encode(_DISPUTE_TYPEHASH, record)),
            signature
        );
        Loan storage loan = _loanOf(record.platform, record.subject, record.loan);
        uint8 action = record.action;
        if (action > _CLOSE) revert RiskRulesUnknownCode(action);
        bool open = loan.disputeOpen;
        if (open == (action == _OPEN)) revert RiskRulesDisputeState(record.loan, open);
        uint64 time = _time();
        if (action == _OPEN) {
            loan.disputeOpen = true;
            loan.disputeOpenedAt = time;
            emit DisputeOpened(record.platform, record.subject, record.loan, time);
        } else {
            uint64 paused = time - loan.disputeOpenedAt;
            uint64 pausedTotal = loan.pausedTotal + paused;
            // Late status resumes where it stopped: the due time moves by the time paused.
            loan.nextDue += paused;
            loan.disputeOpen = false;
            loan.disputeOpenedAt = 0;
            loan.pausedTotal = pausedTotal;
            emit DisputeClosed(record.platform, record.subject, record.loan, pausedTotal);
        }
    }

    // --- Regulators and governance -----------------------------------------------------------

    /// @inheritdoc IRiskRules
    function setPlatformFrozen(address platform, bool frozen) external virtual onlyRole(REGULATOR_ROLE) {
        _frozenPlatforms[platform] = frozen;
        emit PlatformFreezeChanged(platform, frozen, _msgSender());
    }

    /// @inheritdoc IRiskRules
    function setLoanFrozen(bytes32 subject, bytes32 loanId, bool frozen) external virtual onlyRole(REGULATOR_ROLE) {
        Loan storage loan = _loans[subject][loanId];
        if (loan.phase == LoanPhase.NONE) revert RiskRulesUnknownLoan(address(0), subject, loanId);
        loan.frozen = frozen;
        emit LoanFreezeChanged(subject, loanId, frozen, _msgSender());
    }

    /// @inheritdoc IRiskRules
    function setParameter(Parameter parameter, uint64 value) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        Parameters storage current = _parameters;
        uint64 previous;
        if (parameter != Parameter.MIN_FACTORS && value > _MAX_PERIOD) {
            revert RiskRulesInvalidParameter(parameter, value);
        }
        if (parameter == Parameter.MIN_FACTORS) {
            if (value == 0 || value > _METHOD_COUNT) revert RiskRulesInvalidParameter(parameter, value);
            previous = current.minFactors;
            current.minFactors = uint8(value);
        } else if (parameter == Parameter.COOLING_PERIOD) {
            previous = current.coolingPeriod;
            current.coolingPeriod = value;
        } else if (parameter == Parameter.GRACE_PERIOD) {
            if (value >= current.defaultAfter) revert RiskRulesInvalidParameter(parameter, value);
            previous = current.gracePeriod;
            current.gracePeriod = value;
        } else {
            if (value <= current.gracePeriod) revert RiskRulesInvalidParameter(parameter, value);
            previous = current.defaultAfter;
            current.defaultAfter = value;
        }
        emit ParameterChanged(parameter, previous, value);
    }

    // --- Views -------------------------------------------------------------------------------

    /// @inheritdoc IRiskRules
    function parameters() external view virtual returns (Parameters memory) {
        return _parameters;
    }

    /// @inheritdoc IRiskRules
    function subjectState(address platform, bytes32 subject) external view virtual returns (SubjectView memory) {
        Subject storage s = _subjects[platform][subject];
        return
            SubjectView({
                head: s.head,
                bound: s.bound,
                factors: s.factors,
                coolingEndsAt: s.coolingEndsAt,
                lendingConsent: s.lendingConsent,
                lendingConsentExpiresAt: s.lendingConsentExpiresAt,
                contactConsent: s.contactConsent,
                contactConsentExpiresAt: s.contactConsentExpiresAt
            });
    }

    /// @inheritdoc IRiskRules
    function loanState(bytes32 subject, bytes32 loanId) external view virtual returns (LoanView memory) {
        Loan storage loan = _loans[subject][loanId];
        return
            LoanView({
                platform: loan.platform,
                phase: loan.phase,
                status: _status(loan, _parameters, _time()),
                contactRisk: loan.contactRisk,
                frozen: loan.frozen,
                disputeOpen: loan.disputeOpen,
                nextDue: loan.nextDue,
                repaid: loan.repaid,
                pausedTotal: loan.pausedTotal
            });
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

    /**
     * @dev Checks the platform's signature, role and freeze, and that the record extends the
     * (platform, subject) hash chain; then makes the record's hash the chain's head.
     */
    function _accept(
        address platform,
        bytes32 subjectId,
        bytes32 prev,
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

        subject = _subjects[platform][subjectId];
        bytes32 head = subject.head;
        if (prev != head) {
            if (digest == head) revert RiskRulesReplayedRecord(subjectId, digest);
            revert RiskRulesBrokenChain(subjectId, head, prev);
        }
        subject.head = digest;
        emit RecordAccepted(platform, subjectId, digest);
    }

    /// @dev Returns the platform's loan of the subject; reverts if there is none or it is frozen.
    function _loanOf(address platform, bytes32 subject, bytes32 loanId) private view returns (Loan storage loan) {
        loan = _loans[subject][loanId];
        // A loan that does not exist has the zero platform, which never signs.
        if (loan.platform != platform) revert RiskRulesUnknownLoan(platform, subject, loanId);
        if (loan.frozen) revert RiskRulesLoanFrozen(subject, loanId);
    }

    /// @dev Rules R1, R2, R3, R4 and R7 for a disbursement.
    function _checkMayDisburse(Subject storage subject, bytes32 subjectId) private view {
        Parameters memory params = _parameters;
        uint64 time = _time();
        if (!subject.bound) revert RiskRulesNoActiveBinding(subjectId);
        uint8 factors = _countFactors(subject.factors);
        if (factors < params.minFactors) revert RiskRulesTooFewFactors(subjectId, factors, params.minFactors);
        _checkConsent(subjectId, _LENDING, subject.lendingConsent, subject.lendingConsentExpiresAt);
        uint64 coolingEndsAt = subject.coolingEndsAt;
        if (time < coolingEndsAt) revert RiskRulesCoolingPeriod(subjectId, coolingEndsAt);

        bytes32[] storage open = _openLoans[subjectId];
        uint256 count = open.length;
        for (uint256 i = 0; i < count; ++i) {
            bytes32 loanId = open[i];
            LoanStatus status = _status(_loans[subjectId][loanId], params, time);
            if (status >= LoanStatus.DELINQUENT) {
                revert RiskRulesSubjectInArrears(subjectId, loanId, uint8(status));
            }
        }
    }

    /// @dev Rule R3: consent for `purpose` given and not expired.
    function _checkConsent(bytes32 subjectId, uint8 purpose, bool given, uint64 expiresAt) private view {
        if (!given) revert RiskRulesNoConsent(subjectId, purpose);
        if (expiresAt <= _time()) revert RiskRulesConsentExpired(subjectId, purpose, expiresAt);
    }

    /// @dev Rule R6: the loan's status at `time`, the time of disputes taken out.
    function _status(Loan storage loan, Parameters memory params, uint64 time) private view returns (LoanStatus) {
        if (loan.phase != LoanPhase.DISBURSED) return LoanStatus.CURRENT;
        // While a dispute is open the loan's clock stands at the dispute's opening; closed
        // disputes have moved `nextDue` by their length already.
        uint64 loanTime = loan.disputeOpen ? loan.disputeOpenedAt : time;
        uint64 nextDue = loan.nextDue;
        if (loanTime <= nextDue) return LoanStatus.CURRENT;
        uint64 late = loanTime - nextDue;
        if (late <= params.gracePeriod) return LoanStatus.GRACE;
        if (late < params.defaultAfter) return LoanStatus.DELINQUENT;
        return LoanStatus.DEFAULTED;
    }

    /// @dev Rule R4: starts (or extends) the subject's cooling period at the platform.
    function _startCooling(Subject storage subject, address platform, bytes32 subjectId) private {
        uint64 endsAt = _time() + _parameters.coolingPeriod;
        if (endsAt > subject.coolingEndsAt) {
            subject.coolingEndsAt = endsAt;
        }
        emit CoolingPeriodStarted(platform, subjectId, subject.coolingEndsAt);
    }

    /// @dev Rule R5: sets or clears the contact-risk flag of the subject's open loans at the platform.
    function _setContactRisk(address platform, bytes32 subjectId, bool flagged) private {
        bytes32[] storage open = _openLoans[subjectId];
        uint256 count = open.length;
        for (uint256 i = 0; i < count; ++i) {
            bytes32 loanId = open[i];
            Loan storage loan = _loans[subjectId][loanId];
            if (loan.platform != platform || loan.contactRisk == flagged) continue;
            loan.contactRisk = flagged;
            if (flagged) {
                emit ContactRiskFlagged(platform, subjectId, loanId);
            } else {
                emit ContactRiskCleared(platform, subjectId, loanId);
            }
        }
    }

    /**
     * @dev Removes a repaid loan from its subject's open loans (moves the last into its place).
     * A search, not a stored index: there are at most _MAX_OPEN_LOANS, and storing each loan's
     * index would cost every disbursement a new storage slot.
     */
    function _removeOpenLoan(bytes32 subjectId, bytes32 loanId) private {
        bytes32[] storage open = _openLoans[subjectId];
        uint256 last = open.length - 1;
        for (uint256 i = 0; i < last; ++i) {
            if (open[i] == loanId) {
                open[i] = open[last];
                break;
            }
        }
        open.pop();
    }

    /// @dev Checks a schedule (see {createLoan}); returns the sum of its amounts.
    function _checkSchedule(
        bytes32 loanId,
        uint64[] calldata dueTimes,
        uint128[] calldata amounts
    ) private pure returns (uint256 total) {
        uint256 count = dueTimes.length;
        if (count == 0 || count != amounts.length || count > _MAX_INSTALLMENTS) {
            revert RiskRulesInvalidSchedule(loanId, 0);
        }
        uint64 previousDue = 0;
        for (uint256 i = 0; i < count; ++i) {
            uint64 due = dueTimes[i];
            uint128 amount = amounts[i];
            // A due time of zero (1970) is refused with the rest.
            if (amount == 0 || due <= previousDue) revert RiskRulesInvalidSchedule(loanId, i);
            // At most 36 amounts below 2^128 each: the uint256 sum cannot overflow.
            unchecked {
                total += amount;
            }
            previousDue = due;
        }
        // Repaid amounts are kept as uint128.
        if (total > type(uint128).max) revert RiskRulesInvalidSchedule(loanId, count - 1);
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

    /// @dev The number of distinct known verification methods in a `factors` bit set.
    function _countFactors(uint8 factors) private pure returns (uint8 count) {
        factors &= _FACTOR_BITS;
        while (factors != 0) {
            factors &= factors - 1;
            ++count;
        }
    }
}
