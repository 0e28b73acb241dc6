"""The repayment-risk rules client: rule records go to the BindLedger contract, then to the log.

A rule record (binding, verification, consent, loan creation, disbursement, repayment, channel
change, collection contact, dispute) is signed by its platform, relayed to the contract by this
deployment's relayer account (any account may relay: the contract checks the platform's
signature, not the sender), and stored in the platform's Merkle log only once the contract has
accepted it. So every stored rule record has both an on-chain position (its transaction) and an
inclusion proof, and the (platform, subject) hash chain is the same on chain and in the log.

The order matters: a record stored first and refused by the contract after would sit in the log
but not on chain, and the two hash chains of the subject would part for good. A refusal is raised
as a ContractRefusedError naming the custom error, its arguments (`facts`) and, for R1-R9, the
rule; it carries the signed record and the block at which the contract refused it, so anyone can
replay the refusal with `eth_call` at that block on any node that keeps its state.

Records may also reach the log first, written there only (POST /v1/records: the fast path for
evidence, anchored in batches). The contract learns of them when it must: when the subject's
next rule record finds the contract's chain behind the log's, the records it lacks are relayed
to it in order first, so it judges on every fact the log holds.

A record a rule (R1-R9) refused is itself evidence, so it goes in the log too, as a Refusal
record beside the subject's chain (see ledger.core.records.Refusal): the subject's timeline
then shows what was refused, when, and why. Before it is logged, the platform has the contract
attest the refusal (attestRefusal, sent from the platform's account: only the record's platform
may), which extends the subject's refusal chain on chain; a timeline verifies only if it holds
every attested refusal, so none can be left out of it. A refusal the contract did not attest
is not logged (the caller is still told of it).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD

from ledger.chain.client import TransactionFailedError, call_failure
from ledger.chain.reverts import UndecodableRevert, decode_revert, revert_data
from ledger.config import Platform, Regulator
from ledger.core.encoding import to_hex
from ledger.core.records import (
    ZERO_HASH,
    Binding,
    ChannelChange,
    CollectionContact,
    Consent,
    Disbursement,
    Dispute,
    LoanCreation,
    Purpose,
    Record,
    Refusal,
    Repayment,
    RiskWarning,
    SignedRecord,
    Verification,
    sign_record,
    verify_signature,
)
from ledger.core.timeline import RefusalChain
from ledger.errors import LedgerError, LedgerLookupError, LedgerStateError, LedgerValueError
from ledger.service import Accepted, ChainBreakError, Ledger, ReservedRecordTypeError
from ledger.store.base import RecordRow

log = logging.getLogger("bindledger.rules")

REGULATOR_ROLE = keccak(b"REGULATOR_ROLE")

# Gas limit of every rule transaction. Each rule operation stays under a budget of 150 000 gas
# (scripts/gas_rules.py checks it, with the longest schedules and most open loans); the limit
# leaves room for a future fork's repricing, and only the gas used is paid.
RULE_GAS_LIMIT = 400_000

# The contract function that takes each kind of rule record.
CONTRACT_FUNCTION: dict[type[Record], str] = {
    Binding: "recordBinding",
    Verification: "recordVerification",
    Consent: "recordConsent",
    LoanCreation: "createLoan",
    Disbursement: "disburse",
    Repayment: "repay",
    ChannelChange: "changeRepaymentChannel",
    CollectionContact: "recordCollectionContact",
    Dispute: "recordDispute",
    RiskWarning: "recordRiskWarning",
}


class LoanPhase(IntEnum):
    NONE = 0
    CREATED = 1
    DISBURSED = 2
    REPAID = 3
    WRITTEN_OFF = 4  # closed by a regulator: its platform left the consortium


class LoanStatus(IntEnum):
    CURRENT = 0
    GRACE = 1
    DELINQUENT = 2
    DEFAULTED = 3


class Parameter(IntEnum):
    MIN_FACTORS = 0
    COOLING_PERIOD = 1
    GRACE_PERIOD = 2
    DEFAULT_AFTER = 3
    DISPUTE_PAUSE_LIMIT = 4
    RECORD_MAX_AGE = 5
    RECORD_MAX_SKEW = 6


# --- Refusals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefusalEvidence:
    """What makes a refusal provable: the signed record (when the call carried one), the
    contract function, the block at whose state `eth_call` reproduces the refusal (None when it
    could not be pinned to a block) and the revert data."""

    function: str
    revert_data: bytes
    block_number: int | None
    record: SignedRecord | None

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "revertData": to_hex(self.revert_data),
            "blockNumber": self.block_number,
            "record": self.record.to_json() if self.record is not None else None,
        }


class ContractRefusedError(LedgerError):
    """The contract refused a call with a custom error.

    `error` is the custom error's name, `facts` its arguments by name (bytes as 0x-hex, enum codes
    by name), `rule` the rule it enforces ("R1".."R9") or None for errors that are no rule (a
    broken hash chain, a wrong loan phase, ...).
    """

    def __init__(
        self,
        error: str,
        facts: dict[str, Any],
        rule: str | None,
        evidence: RefusalEvidence | None = None,
    ) -> None:
        args = ", ".join(f"{k}={v}" for k, v in facts.items())
        prefix = f"{rule}: " if rule else ""
        super().__init__(f"{prefix}the contract refused the call: {error}({args})")
        self.error = error
        self.facts = facts
        self.rule = rule
        self.evidence = evidence
        self.recorded: Accepted | None = None  # the refusal's own record in the log, if written

    def to_json(self) -> dict[str, Any]:
        """The API's body of the refusal."""
        return {
            "detail": str(self),
            "error": type(self).__name__,
            "rule": self.rule,
            "reason": self.error,
            "facts": self.facts,
            "evidence": self.evidence.to_json() if self.evidence else None,
            "recorded": None if self.recorded is None else {
                "id": self.recorded.row.id,
                "recordHash": to_hex(self.recorded.row.record_hash),
                "leafIndex": self.recorded.row.leaf_index,
            },
        }


class RuleRefusedError(ContractRefusedError, LedgerValueError):
    """A repayment-risk rule (R1-R9) refused the record; `rule` names it."""


class RecordConflictError(ContractRefusedError, LedgerStateError):
    """The record does not fit the state the contract holds (hash chain, binding or loan phase,
    dispute state, open-loan bound)."""


class RecordRefusedError(ContractRefusedError, LedgerValueError):
    """The record itself is not acceptable (signature, codes, schedule)."""


class UnknownLoanError(ContractRefusedError, LedgerLookupError):
    """The contract holds no such loan of the platform."""


class AccessDeniedError(ContractRefusedError, LedgerValueError):
    """The signer or sender lacks the role the call needs."""


# Every custom error of the contract, with the rule it enforces and the kind of refusal.
REFUSALS: dict[str, tuple[str | None, type[ContractRefusedError]]] = {
    "RiskRulesNoActiveBinding": ("R1", RuleRefusedError),
    "RiskRulesTooFewFactors": ("R2", RuleRefusedError),
    "RiskRulesNoConsent": ("R3", RuleRefusedError),
    "RiskRulesConsentExpired": ("R3", RuleRefusedError),
    "RiskRulesCoolingPeriod": ("R4", RuleRefusedError),
    "RiskRulesPhoneCoolingPeriod": ("R4", RuleRefusedError),
    "RiskRulesSubjectInArrears": ("R7", RuleRefusedError),
    "RiskRulesTooManyOpenLoans": ("R7", RuleRefusedError),
    "RiskRulesPlatformShareOfOpenLoans": ("R7", RuleRefusedError),
    "RiskRulesPlatformFrozen": ("R8", RuleRefusedError),
    "RiskRulesLoanFrozen": ("R8", RuleRefusedError),
    "RiskRulesInvalidParameter": ("R8", RuleRefusedError),
    "RiskRulesRiskWarning": ("R9", RuleRefusedError),
    "RiskRulesInvalidWarning": (None, RecordRefusedError),
    "RiskRulesWrongSigner": (None, RecordRefusedError),
    "RiskRulesUnknownCode": (None, RecordRefusedError),
    "RiskRulesInvalidSchedule": (None, RecordRefusedError),
    "RiskRulesScheduleNotInFuture": (None, RecordRefusedError),
    "RiskRulesScheduleBeyondHorizon": (None, RecordRefusedError),
    "RiskRulesScheduleMismatch": (None, RecordRefusedError),
    "RiskRulesDisbursementNotScheduleTotal": (None, RecordRefusedError),
    "RiskRulesZeroRepayment": (None, RecordRefusedError),
    "RiskRulesRepaymentExceedsOwed": (None, RecordRefusedError),
    "RiskRulesRecordTimeInFuture": (None, RecordRefusedError),
    "RiskRulesRecordTimeTooOld": (None, RecordRefusedError),
    "RiskRulesBrokenChain": (None, RecordConflictError),
    "RiskRulesReplayedRecord": (None, RecordConflictError),
    "RiskRulesAlreadyBound": (None, RecordConflictError),
    "RiskRulesNotBound": (None, RecordConflictError),
    "RiskRulesLoanExists": (None, RecordConflictError),
    "RiskRulesWrongLoanPhase": (None, RecordConflictError),
    "RiskRulesDisputeState": (None, RecordConflictError),
    "RiskRulesPlatformStillMember": (None, RecordConflictError),
    "RiskRulesUnknownLoan": (None, UnknownLoanError),
    "AccessControlUnauthorizedAccount": (None, AccessDeniedError),
    # attestRefusal's own refusals: the call was no refused rule call, or not the sender's.
    "RiskRulesNotARuleCall": (None, RecordRefusedError),
    "RiskRulesCallNotRefused": (None, RecordConflictError),
    "RiskRulesNotARuleRefusal": (None, RecordRefusedError),
    "RiskRulesNotRecordPlatform": (None, AccessDeniedError),
}

# Arguments that carry an enumeration code, shown by name in `facts`.
_ENUM_FACTS: dict[tuple[str, str], type[IntEnum]] = {
    ("RiskRulesNoConsent", "purpose"): Purpose,
    ("RiskRulesConsentExpired", "purpose"): Purpose,
    ("RiskRulesSubjectInArrears", "status"): LoanStatus,
    ("RiskRulesWrongLoanPhase", "phase"): LoanPhase,
    ("RiskRulesWrongLoanPhase", "required"): LoanPhase,
    ("RiskRulesInvalidParameter", "parameter"): Parameter,
}


class SubjectChainsDivergedError(LedgerStateError):
    """The subject's hash chain on chain and in the log have parted for good: the contract holds
    a head the log does not, or refused a record the log holds (one written to the log only,
    relayed when the subject's next rule record came)."""

    def __init__(
        self, platform: str, subject: bytes, chain_head: bytes, log_head: bytes, why: str = ""
    ) -> None:
        super().__init__(
            f"the hash chain of subject {to_hex(subject)} at {platform} has head "
            f"{to_hex(chain_head)} on chain but {to_hex(log_head)} in the log{why}"
        )
        self.chain_head = chain_head
        self.log_head = log_head


class RuleRecordNotFoundError(LedgerLookupError):
    """No rule record of the platform with this hash (or not of the expected kind)."""


# --- State ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleParameters:
    """The rule parameters in force. grace_period, default_after and dispute_pause_limit are
    loan terms: a loan keeps those in force when it was created."""

    min_factors: int
    cooling_period: int
    grace_period: int
    default_after: int
    dispute_pause_limit: int
    record_max_age: int
    record_max_skew: int


@dataclass(frozen=True)
class SubjectState:
    """What the contract knows of one subject at one platform."""

    head: bytes
    bound: bool
    factors: int
    cooling_ends_at: int
    lending_consent: bool
    lending_consent_expires_at: int
    contact_consent: bool
    contact_consent_expires_at: int
    phone: bytes


@dataclass(frozen=True)
class WarningState:
    """Rule R9 at one subject of one platform: the time of the risk warning in force (0 when
    none stops a disbursement) and the bits (1 << method) of the checks passed since it."""

    warned_at: int
    checks: int

    @property
    def open(self) -> bool:
        return self.warned_at != 0


@dataclass(frozen=True)
class BorrowerState:
    """What the contract knows of one subject across the consortium."""

    cooling_ends_at: int
    number_reused: bool
    open_loans: int


@dataclass(frozen=True)
class PhoneState:
    """What the contract knows of one phone across the consortium: its last holder (zero when
    never bound) and the end of its cooling period (R4)."""

    holder: bytes
    cooling_ends_at: int


@dataclass(frozen=True)
class LoanState:
    """What the contract knows of one loan, with its status at the contract's current time."""

    platform: str
    phase: LoanPhase
    status: LoanStatus
    contact_risk: bool
    frozen: bool
    dispute_open: bool
    next_due: int
    total: int
    repaid: int
    paused_total: int
    dispute_paused: int


@dataclass(frozen=True)
class Transaction:
    tx_hash: bytes
    block_number: int


@dataclass(frozen=True)
class AttestedRefusal:
    """A refusal the contract attested (attestRefusal): the revert data it attested, the block
    of the attestation, and the subject's refusal chain after it."""

    revert_data: bytes
    block_number: int
    count: int
    head: bytes


@dataclass(frozen=True)
class RuleAccepted:
    """A rule record accepted by the contract (in `tx`) and stored in the log (`accepted`)."""

    accepted: Accepted
    tx: Transaction


@dataclass(frozen=True)
class StoredRecord:
    """A rule record read back from the log."""

    row: RecordRow
    signed: SignedRecord


# --- The client -------------------------------------------------------------------------------


class RulesClient:
    """Submits rule records to the contract and the log, and reads the rules' state.

    Writes about one (platform, subject) are serialized by a lock of this client, held from
    reading the subject's head to storing the record: nothing else may extend the subject's
    chain in between. (That holds within this process, for records written through this client.
    Records of the subject written to the log only are relayed before the subject's next rule
    record; if the contract refuses one of them, the chains have parted for good, raised as
    SubjectChainsDivergedError.)
    """

    def __init__(
        self,
        ledger: Ledger,
        relayer: LocalAccount,
        regulators: list[Regulator] | None = None,
    ) -> None:
        self.ledger = ledger
        self.relayer = relayer
        self.regulators = list(regulators or [])
        self.contract = ledger.contract.contract
        self.abi: list[dict[str, Any]] = ledger.contract.artifact.abi
        self._locks: dict[tuple[str, bytes], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # One transaction at a time per sending account: each takes the account's next nonce.
        self._send_locks: dict[str, threading.Lock] = {}
        # Records the contract accepted but the store did not keep (its commit failed): stored
        # before the subject's next record, so the log catches up with the chain.
        self._unstored: dict[tuple[str, bytes], SignedRecord] = {}
        # Refusals the contract attested but the store did not keep: logged before the
        # subject's next record, so the log holds every attested refusal.
        self._unlogged: dict[tuple[str, bytes], list[Refusal]] = {}

    # -- writing records ---------------------------------------------------------------------

    def sign_and_submit(
        self, platform: Platform, subject: bytes, build: Callable[[bytes], Record]
    ) -> RuleAccepted:
        """Build a record on the subject's head, sign it as `platform`, have the contract accept
        it, then store it in the log.

        Raises a ContractRefusedError subclass when the contract refuses it (nothing is stored),
        SubjectChainsDivergedError when the chain and the log disagree on the subject's head.
        """
        with self._subject_lock(platform.address, subject):
            self._catch_up(platform.address, subject)
            record = build(self.ledger.subject_head(platform.address, subject))
            if record.platform != platform.address or record.subject != subject:
                raise LedgerValueError("the built record names another platform or subject")
            signed = sign_record(record, self.ledger.domain, bytes(platform.account.key))
            return self._submit_locked(signed)

    def check(
        self, platform: Platform, subject: bytes, build: Callable[[bytes], Record]
    ) -> SignedRecord:
        """Whether the contract would accept the record now: sign it on the subject's head and
        run it with eth_call; nothing is sent or stored. Returns the signed record, or raises
        its refusal as sign_and_submit would."""
        with self._subject_lock(platform.address, subject):
            record = build(self.ledger.subject_head(platform.address, subject))
            signed = sign_record(record, self.ledger.domain, bytes(platform.account.key))
            function, call = self._call(signed)
            self._precheck(self.relayer, call, function, signed)
            return signed

    def relay(self, signed: SignedRecord) -> RuleAccepted:
        """Relay a record its platform signed elsewhere; then as sign_and_submit.

        Raises UnknownPlatformError, SignatureError and ChainBreakError (stale `prev`) before
        anything is sent.
        """
        record = signed.record
        if type(record) not in CONTRACT_FUNCTION:
            raise LedgerValueError(f"{record.TYPE_NAME} records are not rule records")
        if not record.PLATFORM_WRITES:
            raise ReservedRecordTypeError(
                f"{record.TYPE_NAME} records are written by BindLedger; a platform does not "
                "relay them"
            )
        self.ledger.platform(record.platform)
        verify_signature(signed, self.ledger.domain)
        with self._subject_lock(record.platform, record.subject):
            self._catch_up(record.platform, record.subject)
            head = self.ledger.subject_head(record.platform, record.subject)
            if record.prev != head:
                raise ChainBreakError(head, record.prev)
            return self._submit_locked(signed)

    def _submit_locked(self, signed: SignedRecord) -> RuleAccepted:
        record = signed.record
        function, call = self._call(signed)
        try:
            try:
                tx = self._transact(self.relayer, call, function, signed)
            except RecordConflictError as exc:
                if exc.error != "RiskRulesBrokenChain" or not self._relay_log_only(
                    record.platform, record.subject
                ):
                    raise
                tx = self._transact(self.relayer, call, function, signed)
        except RuleRefusedError as exc:
            exc.recorded = self._record_refusal(signed, call, exc)
            raise
        key = (record.platform, record.subject)
        try:
            accepted = self._store(signed)
        except Exception:
            self._unstored[key] = signed
            raise
        return RuleAccepted(accepted, tx)

    def _record_refusal(
        self, signed: SignedRecord, call: ContractFunction, refusal: RuleRefusedError
    ) -> Accepted | None:
        """Requires the subject's lock. Have the contract attest the refusal, then log it beside
        the subject's chain; None when it was not attested (nothing is logged) or not logged yet
        (it is, before the subject's next record). The caller's answer stands either way."""
        record = signed.record
        if refusal.evidence is None or refusal.rule is None:
            return None
        data = bytes(HexBytes(self.contract.encode_abi(call.abi_element_identifier, call.args)))
        platform = self.ledger.platform(record.platform)
        refused = record.digest(self.ledger.domain)
        try:
            attested = self.attest_refusal(platform, data)
        except LedgerError as exc:
            log.warning("refusal of %s not attested, so not logged: %s", to_hex(refused), exc)
            return None
        # The answer names what the log will hold: the attested revert, at the attestation.
        refusal.evidence = replace(
            refusal.evidence, revert_data=attested.revert_data, block_number=attested.block_number
        )
        entry = Refusal(
            platform=record.platform,
            subject=record.subject,
            prev=record.prev,
            timestamp=self.ledger.now(),
            refused=refused,
            rule=int(refusal.rule.removeprefix("R")),
            call=data,
            # What the contract attested: the refusal chain is built from exactly these bytes.
            revert=attested.revert_data,
            block=attested.block_number,
        )
        try:
            return self.ledger.write_beside_chain(platform, entry)
        except LedgerError as exc:
            self._unlogged.setdefault((record.platform, record.subject), []).append(entry)
            log.warning("attested refusal of %s not logged yet: %s", to_hex(refused), exc)
            return None

    def attest_refusal(self, platform: Platform, call: bytes) -> AttestedRefusal:
        """Have the contract attest that it refuses `call` (a rule call's calldata) under a
        rule, sent from the platform's account. Raises a ContractRefusedError subclass when the
        contract does not (the call succeeds, or reverts by no rule, or is another platform's).
        """
        attest = self.contract.functions.attestRefusal(call)
        tx = self._transact(platform.account, attest, "attestRefusal", None)
        receipt = self.ledger.chain.receipt(tx.tx_hash)
        logs = [] if receipt is None else receipt.logs
        events = self.contract.events.RefusalAttested().process_receipt(
            {"logs": logs}, errors=DISCARD
        )
        if len(events) != 1:
            raise LedgerStateError(
                f"attestation {to_hex(tx.tx_hash)} was mined without its RefusalAttested event"
            )
        args = events[0]["args"]
        return AttestedRefusal(
            bytes(args["revertData"]), tx.block_number, int(args["count"]), bytes(args["head"])
        )

    def _call(self, signed: SignedRecord) -> tuple[str, ContractFunction]:
        """The contract function and call that take the record."""
        record = signed.record
        extra: tuple[Any, ...] = ()
        if isinstance(record, Repayment):
            creation = self.loan_creation_of(record.platform, record.subject, record.loan)
            extra = (list(creation.due_times), list(creation.amounts))
        function = CONTRACT_FUNCTION[type(record)]
        call = getattr(self.contract.functions, function)(
            _abi_struct(record), signed.signature, *extra
        )
        return function, call

    def _store(self, signed: SignedRecord) -> Accepted:
        """Store a record the contract accepted; a RiskWarning, which BindLedger writes, too.
        The contract judged the record's time (its record time window): the log follows."""
        if signed.record.PLATFORM_WRITES:
            return self.ledger.submit(signed, check_times=False)
        return self.ledger.submit(signed, check_times=False, by_ledger=True)

    def _catch_up(self, platform: str, subject: bytes) -> None:
        """Requires the subject's lock. Logs the refusals the contract attested and the store
        lost, then stores a record the contract accepted and the store lost: in that order,
        as they happened (a refusal names the head before the record as its `prev`)."""
        unlogged = self._unlogged.get((platform, subject), [])
        while unlogged:
            self.ledger.write_beside_chain(self.ledger.platform(platform), unlogged[0])
            unlogged.pop(0)
        self._unlogged.pop((platform, subject), None)
        pending = self._unstored.get((platform, subject))
        if pending is not None:
            self._store(pending)
            del self._unstored[(platform, subject)]

    def _relay_log_only(self, platform: str, subject: bytes) -> bool:
        """Requires the subject's lock. Relay to the contract, in order, the subject's records
        the log holds after the contract's head of the subject (written to the log only);
        False when there are none (the heads agree).

        Raises SubjectChainsDivergedError when the contract's head is not in the log, or the
        contract refuses one of them.
        """
        chain_head = self.subject_state(platform, subject).head
        log_head = self.ledger.subject_head(platform, subject)
        if chain_head == log_head:
            return False
        rows = self.ledger.store.records_of_subject(platform, subject)
        hashes = [ZERO_HASH] + [row.record_hash for row in rows]
        if chain_head not in hashes:
            raise SubjectChainsDivergedError(platform, subject, chain_head, log_head)
        for row in rows[hashes.index(chain_head):]:
            signed = self.ledger.read(row).record
            if not signed.record.EXTENDS_CHAIN:
                continue
            function, call = self._call(signed)
            try:
                self._transact(self.relayer, call, function, signed)
            except ContractRefusedError as exc:
                why = f": the contract refused record {row.id}, written to the log only: {exc}"
                raise SubjectChainsDivergedError(
                    platform, subject, chain_head, log_head, why
                ) from exc
            chain_head = row.record_hash
        return True

    # -- regulators --------------------------------------------------------------------------

    def regulator_by_api_key(self, compare: Callable[[str], bool]) -> Regulator | None:
        for regulator in self.regulators:
            if compare(regulator.api_key):
                return regulator
        return None

    def freeze_platform(self, regulator: Regulator, platform: str, frozen: bool) -> Transaction:
        """R8: freeze or unfreeze a platform. Raises AccessDeniedError without REGULATOR_ROLE."""
        call = self.contract.functions.setPlatformFrozen(to_checksum_address(platform), frozen)
        return self._transact(regulator.account, call, "setPlatformFrozen", None)

    def freeze_loan(
        self, regulator: Regulator, platform: str, subject: bytes, loan: bytes, frozen: bool
    ) -> Transaction:
        """R8: freeze or unfreeze a platform's loan (its lateness clock stands while frozen).
        Raises UnknownLoanError when there is no such loan."""
        call = self.contract.functions.setLoanFrozen(
            to_checksum_address(platform), subject, loan, frozen
        )
        return self._transact(regulator.account, call, "setLoanFrozen", None)

    def write_off_loan(
        self, regulator: Regulator, platform: str, subject: bytes, loan: bytes
    ) -> Transaction:
        """Write off an open loan of a platform that left the consortium (lost PLATFORM_ROLE).
        Raises RecordConflictError while the platform is a member or the loan is not open."""
        call = self.contract.functions.writeOffLoan(to_checksum_address(platform), subject, loan)
        return self._transact(regulator.account, call, "writeOffLoan", None)

    # -- reading -----------------------------------------------------------------------------

    def parameters(self) -> RuleParameters:
        values = self.contract.functions.parameters().call()
        return RuleParameters(*(int(v) for v in values))

    def subject_state(self, platform: str, subject: bytes) -> SubjectState:
        (head, bound, factors, cooling, lending, lending_exp, contact, contact_exp, phone) = (
            self.contract.functions.subjectState(to_checksum_address(platform), subject).call()
        )
        return SubjectState(
            bytes(head), bool(bound), int(factors), int(cooling), bool(lending),
            int(lending_exp), bool(contact), int(contact_exp), bytes(phone),
        )

    def warning_state(self, platform: str, subject: bytes) -> WarningState:
        """Rule R9's state of the subject at the platform, as the contract holds it."""
        warned_at, checks = self.contract.functions.riskWarningState(
            to_checksum_address(platform), subject
        ).call()
        return WarningState(int(warned_at), int(checks))

    def borrower_state(self, subject: bytes) -> BorrowerState:
        cooling, reused, open_loans = self.contract.functions.borrowerState(subject).call()
        return BorrowerState(int(cooling), bool(reused), int(open_loans))

    def phone_state(self, phone: bytes) -> PhoneState:
        holder, cooling = self.contract.functions.phoneState(phone).call()
        return PhoneState(bytes(holder), int(cooling))

    def loan_state(self, platform: str, subject: bytes, loan: bytes) -> LoanState:
        address = to_checksum_address(platform)
        (phase, status, risk, frozen, dispute, next_due, total, repaid, paused, dispute_paused) = (
            self.contract.functions.loanState(address, subject, loan).call()
        )
        return LoanState(
            address, LoanPhase(phase), LoanStatus(status), bool(risk), bool(frozen),
            bool(dispute), int(next_due), int(total), int(repaid), int(paused),
            int(dispute_paused),
        )

    def refusal_state(self, platform: str, subject: bytes) -> RefusalChain:
        """The refusals of the subject at the platform the contract attested, and their head."""
        head, count = self.contract.functions.refusalState(
            to_checksum_address(platform), subject
        ).call()
        return RefusalChain(bytes(head), int(count))

    def is_platform_frozen(self, platform: str) -> bool:
        return bool(
            self.contract.functions.isPlatformFrozen(to_checksum_address(platform)).call()
        )

    def stored(self, platform: str, record_hash: bytes, kind: type[Record]) -> StoredRecord:
        """The platform's stored record of `kind` with this hash; raises RuleRecordNotFoundError
        (also for another platform's record: a platform does not learn which exist)."""
        row = self.ledger.store.get_record_by_hash(record_hash)
        if row is None or row.platform != platform or row.record_type != kind.TYPE_NAME:
            raise RuleRecordNotFoundError(
                f"no {kind.TYPE_NAME} record {to_hex(record_hash)} of this platform"
            )
        return StoredRecord(row, self.ledger.read(row).record)

    def loan_creation_of(self, platform: str, subject: bytes, loan: bytes) -> LoanCreation:
        """The stored creation record of the platform's loan; raises RuleRecordNotFoundError."""
        for row in reversed(self.ledger.store.records_of_subject(platform, subject)):
            if row.record_type != LoanCreation.TYPE_NAME:
                continue
            record = self.ledger.read(row).record.record
            if isinstance(record, LoanCreation) and record.loan == loan:
                return record
        raise RuleRecordNotFoundError(
            f"no LoanCreation record of loan {to_hex(loan)} for subject {to_hex(subject)}"
        )

    # -- transactions ------------------------------------------------------------------------

    def _transact(
        self,
        account: LocalAccount,
        call: ContractFunction,
        function: str,
        signed: SignedRecord | None,
    ) -> Transaction:
        """Send `call` from `account`; a call the contract refuses raises its refusal."""
        chain = self.ledger.chain
        with self._send_lock(account.address):
            # One eth_call finds a refusal; a gas estimate would find it too, but eth-tester
            # estimates by binary search (a dozen executions), and every rule operation has a
            # known bound anyway.
            self._precheck(account, call, function, signed)
            sent = chain.sign_call(account, call, gas=RULE_GAS_LIMIT)
            chain.broadcast(sent)
        receipt = chain.wait_for_receipt(sent.tx_hash)
        return Transaction(receipt.tx_hash, receipt.block_number)

    def _precheck(
        self,
        account: LocalAccount,
        call: ContractFunction,
        function: str,
        signed: SignedRecord | None,
    ) -> None:
        """Run `call` with eth_call on the pending state; raise its refusal if it reverts."""
        try:
            call.call({"from": account.address}, block_identifier="pending")
        except Exception as exc:  # noqa: BLE001 - each provider raises its own type
            failed = call_failure(exc)  # a node that does not answer is not a refusal
            if not isinstance(failed, TransactionFailedError):
                raise failed from None
            raise self._refusal(failed, call, account, function, signed) from None

    def _refusal(
        self,
        exc: TransactionFailedError,
        call: ContractFunction,
        account: LocalAccount,
        function: str,
        signed: SignedRecord | None,
    ) -> LedgerError:
        data = exc.revert_data
        if data is None:
            return exc
        try:
            name, args = decode_revert(self.abi, data)
        except UndecodableRevert:
            return exc
        rule, kind = REFUSALS.get(name, (None, RecordRefusedError))
        evidence = RefusalEvidence(function, data, self._refused_at(call, account, data), signed)
        return kind(name, self._facts(name, args), rule, evidence)

    def _refused_at(self, call: ContractFunction, account: LocalAccount, data: bytes) -> int | None:
        """The latest block at whose state the call reverts with `data`, if it still does."""
        chain = self.ledger.chain
        try:
            block = int(chain.web3.eth.block_number)
            call.call({"from": account.address}, block_identifier=block)
        except Exception as exc:  # noqa: BLE001 - each provider raises its own type
            return block if revert_data(exc) == data else None
        return None

    def _facts(self, name: str, args: tuple[Any, ...]) -> dict[str, Any]:
        return error_facts(self.abi, name, args)

    def _send_lock(self, address: str) -> threading.Lock:
        with self._locks_guard:
            return self._send_locks.setdefault(address, threading.Lock())

    def _subject_lock(self, platform: str, subject: bytes) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((platform, subject), threading.Lock())


def _abi_struct(record: Record) -> tuple[Any, ...]:
    """The record as the ABI tuple of its Solidity struct (same members, same order)."""
    return tuple(record.to_eip712_message().values())


def error_facts(abi: list[dict[str, Any]], name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """A custom error's arguments by name: bytes as 0x-hex, enumeration codes by name."""
    names = _error_inputs(abi, name, len(args))
    return {key: _fact(_ENUM_FACTS.get((name, key)), value)
            for key, value in zip(names, args, strict=True)}


def _error_inputs(abi: list[dict[str, Any]], name: str, count: int) -> list[str]:
    for entry in abi:
        if entry.get("type") == "error" and entry.get("name") == name:
            inputs = entry.get("inputs", [])
            if len(inputs) == count:
                return [str(i.get("name") or f"arg{n}") for n, i in enumerate(inputs)]
    return [f"arg{n}" for n in range(count)]


def _fact(enum: type[IntEnum] | None, value: Any) -> Any:
    if isinstance(value, bytes):
        return to_hex(value)
    if enum is not None and isinstance(value, int):
        try:
            return enum(value).name
        except ValueError:
            return value
    return value


# --- One client per ledger ----------------------------------------------------------------------

_CLIENTS: weakref.WeakKeyDictionary[Ledger, RulesClient] = weakref.WeakKeyDictionary()


def attach_rules(ledger: Ledger, client: RulesClient) -> RulesClient:
    """Make `client` the rules client of `ledger` (runtime.open_ledger does)."""
    _CLIENTS[ledger] = client
    return client


def rules_for(ledger: Ledger) -> RulesClient:
    """The rules client of `ledger`; raises LedgerStateError when none was attached."""
    client = _CLIENTS.get(ledger)
    if client is None:
        raise LedgerStateError("this ledger has no rules client (open it with open_ledger)")
    return client


__all__ = [
    "CONTRACT_FUNCTION",
    "REFUSALS",
    "REGULATOR_ROLE",
    "AccessDeniedError",
    "AttestedRefusal",
    "BorrowerState",
    "ContractRefusedError",
    "LoanPhase",
    "LoanState",
    "LoanStatus",
    "Parameter",
    "PhoneState",
    "RecordConflictError",
    "RecordRefusedError",
    "RefusalEvidence",
    "RuleAccepted",
    "RuleParameters",
    "RuleRecordNotFoundError",
    "RuleRefusedError",
    "RulesClient",
    "SubjectChainsDivergedError",
    "SubjectState",
    "Transaction",
    "UnknownLoanError",
    "WarningState",
    "attach_rules",
    "error_facts",
    "rules_for",
]
