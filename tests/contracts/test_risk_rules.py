"""BindLedger's repayment-risk rules (R1-R8) over platform-signed EIP-712 records.

Run through BindLedgerHarness, whose clock the test sets, so that cooling periods, consent expiry
and repayment status are tested without waiting. Refusals are asserted as OpenZeppelin's tests
do: the exact custom error and its arguments, decoded from the revert data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from ledger.core.records import (
    ZERO_HASH,
    Binding,
    BindingAction,
    ChannelChange,
    CollectionContact,
    Consent,
    ConsentAction,
    Disbursement,
    Dispute,
    DisputeAction,
    Domain,
    LoanCreation,
    Purpose,
    Record,
    Repayment,
    RiskWarning,
    SignedRecord,
    Verification,
    VerificationMethod,
    factor_mask,
    sign_record,
)
from tests.conftest import CHAIN_KINDS
from tests.helpers.reverts import expect_revert

from .conftest import Deploy

PLATFORM_ROLE = keccak(text="PLATFORM_ROLE")
REGULATOR_ROLE = keccak(text="REGULATOR_ROLE")
DEFAULT_ADMIN_ROLE = bytes(32)
ZERO_ADDRESS = "0x" + "00" * 20

HOUR = 3600
DAY = 24 * HOUR
COOLING = 72 * HOUR
GRACE = 15 * DAY
DEFAULT_AFTER = 90 * DAY
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z

# Loan phases and statuses, as the contract's enums.
NONE, CREATED, DISBURSED, REPAID, WRITTEN_OFF = range(5)
CURRENT, GRACE_STATUS, DELINQUENT, DEFAULTED = range(4)
DISPUTE_LIMIT = 90 * DAY
RECORD_MAX_AGE = 30 * DAY
RECORD_MAX_SKEW = 15 * 60
# Parameters, as the contract's enum.
(MIN_FACTORS, COOLING_PERIOD, GRACE_PERIOD, DEFAULT_AFTER_PARAM, DISPUTE_PAUSE_LIMIT,
 RECORD_MAX_AGE_PARAM, RECORD_MAX_SKEW_PARAM) = range(7)
LENDING, CONTACT = int(Purpose.LENDING), int(Purpose.CONTACT)

SMS_LIVENESS = factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])
SMS_ONLY = factor_mask([VerificationMethod.SMS_OTP])

PLATFORM_KEYS = [bytes([0xA0 + i]) * 32 for i in range(4)]
FIRST_PLATFORM = str(Account.from_key(PLATFORM_KEYS[0]).address)

SUBMIT = {
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


def struct(record: Record) -> tuple[Any, ...]:
    """The record as the ABI tuple of its Solidity struct (same members, same order)."""
    return tuple(record.to_eip712_message().values())


def ref(label: str) -> bytes:
    """A stand-in for a keyed reference (tests need distinct 32-byte values, not HMACs)."""
    return keccak(text=label)


@dataclass
class Platform:
    """A platform key, and the heads of its subjects' hash chains as the contract should keep them."""

    account: LocalAccount
    rules: Rules
    heads: dict[bytes, bytes] = field(default_factory=dict)
    totals: dict[bytes, int] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def make(self, kind: type[Record], subject: bytes, **members: Any) -> Record:
        """A record of `kind` about `subject` extending its chain, stamped with the rules' clock."""
        prev = members.pop("prev", self.heads.get(subject, ZERO_HASH))
        return kind(
            platform=self.address, subject=subject, prev=prev, timestamp=self.rules.now, **members
        )

    def sign(self, record: Record) -> SignedRecord:
        return sign_record(record, self.rules.domain, bytes(self.account.key))

    def submit(self, record: Record, *extra: Any, signed: SignedRecord | None = None) -> TxReceipt:
        """Relays the signed record and expects it accepted; advances the subject's head."""
        signed = signed or self.sign(record)
        receipt = self.rules.transact(self.rules.call(signed, *extra))
        self.heads[record.subject] = record.digest(self.rules.domain)
        return receipt

    def refused(self, record: Record, *extra: Any, signed: SignedRecord | None = None,
                ) -> tuple[str, tuple[Any, ...]]:
        """Relays the signed record, which must revert; returns the decoded error."""
        signed = signed or self.sign(record)
        call = self.rules.call(signed, *extra)
        return expect_revert(self.rules.contract.abi,
                             lambda: call.transact({"from": self.rules.relayer}))

    # Shorthands for the common records.

    def bind(self, subject: bytes, factors: int = SMS_LIVENESS,
             action: BindingAction = BindingAction.BIND, phone: str = "phone-1") -> TxReceipt:
        return self.submit(self.make(Binding, subject, action=action, phone=ref(phone),
                                     account=ref("account"), factors=factors))

    def consent(self, subject: bytes, purpose: Purpose = Purpose.LENDING,
                expires_at: int | None = None,
                action: ConsentAction = ConsentAction.GIVEN) -> TxReceipt:
        return self.submit(self.make(
            Consent, subject, action=action, purpose=purpose, policy_hash=ref("policy-v1"),
            expires_at=self.rules.now + 365 * DAY if expires_at is None else expires_at))

    def verify(self, subject: bytes, method: VerificationMethod, passed: bool) -> TxReceipt:
        return self.submit(self.make(Verification, subject, method=method, passed=passed,
                                     phone=ref("phone-1")))

    def create_loan(self, subject: bytes, loan: bytes, schedule: Schedule) -> TxReceipt:
        receipt = self.submit(self.make(LoanCreation, subject, loan=loan,
                                        due_times=schedule.due_times, amounts=schedule.amounts))
        self.totals[loan] = sum(schedule.amounts)
        return receipt

    def disbursement(self, subject: bytes, loan: bytes, amount: int | None = None) -> Record:
        """A disbursement of the loan's schedule total (the only amount the contract takes)."""
        total = self.totals.get(loan, 1_000) if amount is None else amount
        return self.make(Disbursement, subject, loan=loan, amount=total)

    def disburse(self, subject: bytes, loan: bytes) -> TxReceipt:
        return self.submit(self.disbursement(subject, loan))

    def repay(self, subject: bytes, loan: bytes, amount: int, schedule: Schedule) -> TxReceipt:
        return self.submit(self.make(Repayment, subject, loan=loan, amount=amount),
                           *schedule.args())

    def dispute(self, subject: bytes, loan: bytes, action: DisputeAction) -> TxReceipt:
        return self.submit(self.make(Dispute, subject, loan=loan, action=action))

    def ready(self, subject: bytes, loan: bytes, schedule: Schedule) -> None:
        """Bound with two factors, LENDING and CONTACT consent, loan created: disbursable."""
        self.bind(subject)
        self.consent(subject, Purpose.LENDING)
        self.consent(subject, Purpose.CONTACT)
        self.create_loan(subject, loan, schedule)


@dataclass(frozen=True)
class Schedule:
    due_times: tuple[int, ...]
    amounts: tuple[int, ...]

    def args(self) -> tuple[list[int], list[int]]:
        return list(self.due_times), list(self.amounts)

    @classmethod
    def monthly(cls, start: int, count: int = 3, amount: int = 100) -> Schedule:
        return cls(tuple(start + 30 * DAY * (i + 1) for i in range(count)), (amount,) * count)


@dataclass
class Rules:
    w3: Web3
    contract: Contract
    domain: Domain
    admin: str
    relayer: str
    regulator: str
    outsider: str
    now: int = T0

    def call(self, signed: SignedRecord, *extra: Any) -> Any:
        function = getattr(self.contract.functions, SUBMIT[type(signed.record)])
        return function(struct(signed.record), signed.signature, *extra)

    def transact(self, call: Any, sender: str | None = None) -> TxReceipt:
        tx_hash = call.transact({"from": sender or self.relayer})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return receipt

    def set_time(self, time: int) -> None:
        self.now = time
        self.transact(self.contract.functions.setTime(time))

    def advance(self, seconds: int) -> None:
        self.set_time(self.now + seconds)

    def loan(self, subject: bytes, loan: bytes, platform: Platform | None = None) -> dict[str, Any]:
        """The loan of `platform` (by default the first platform's, PLATFORM_KEYS[0])."""
        names = ["phase", "status", "contactRisk", "frozen", "disputeOpen", "nextDue", "total",
                 "repaid", "pausedTotal", "disputePaused"]
        lender = FIRST_PLATFORM if platform is None else platform.address
        return dict(zip(names, self.contract.functions.loanState(lender, subject, loan).call(),
                        strict=True))

    def status(self, subject: bytes, loan: bytes, platform: Platform | None = None) -> int:
        return int(self.loan(subject, loan, platform)["status"])

    def subject(self, platform: Platform, subject: bytes) -> dict[str, Any]:
        names = ["head", "bound", "factors", "coolingEndsAt", "lendingConsent",
                 "lendingConsentExpiresAt", "contactConsent", "contactConsentExpiresAt", "phone"]
        values = self.contract.functions.subjectState(platform.address, subject).call()
        return dict(zip(names, values, strict=True))

    def borrower(self, subject: bytes) -> dict[str, Any]:
        names = ["coolingEndsAt", "numberReused", "openLoans"]
        values = self.contract.functions.borrowerState(subject).call()
        return dict(zip(names, values, strict=True))

    def phone(self, phone: bytes) -> dict[str, Any]:
        holder, cooling_ends_at = self.contract.functions.phoneState(phone).call()
        return {"holder": holder, "coolingEndsAt": cooling_ends_at}

    def events(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        event = getattr(self.contract.events, name)()
        return [dict(e["args"]) for e in event.process_receipt(receipt, errors=DISCARD)]

    def revert_of(self, call: Any, sender: str) -> tuple[str, tuple[Any, ...]]:
        return expect_revert(self.contract.abi, lambda: call.transact({"from": sender}))


@pytest.fixture(scope="module", params=CHAIN_KINDS)
def w3(request: pytest.FixtureRequest) -> Iterator[Web3]:
    """Overrides tests/contracts/conftest.py: these tests run on eth-tester and on anvil (its
    unlocked development accounts send the transactions there)."""
    if request.param == "embedded":
        yield Web3(EthereumTesterProvider())
    else:
        yield Web3(HTTPProvider(request.getfixturevalue("anvil_url")))


@pytest.fixture
def rules(deploy: Deploy, w3: Web3) -> Rules:
    admin, relayer, regulator, outsider = (w3.eth.accounts[i] for i in range(4))
    contract = deploy("BindLedgerHarness", admin, sender=admin)
    rules = Rules(w3, contract, Domain(int(w3.eth.chain_id), contract.address), admin, relayer,
                  regulator, outsider)
    rules.transact(contract.functions.grantRole(REGULATOR_ROLE, regulator), admin)
    rules.set_time(T0)
    return rules


def _platform(rules: Rules, index: int, *, role: bool = True) -> Platform:
    account = Account.from_key(PLATFORM_KEYS[index])
    if role:
        rules.transact(rules.contract.functions.grantRole(PLATFORM_ROLE, account.address),
                       rules.admin)
    return Platform(account, rules)


@pytest.fixture
def platform(rules: Rules) -> Platform:
    return _platform(rules, 0)


@pytest.fixture
def other_platform(rules: Rules) -> Platform:
    return _platform(rules, 1)


SUBJECT = ref("subject-1")
LOAN = ref("loan-1")
LOAN_2 = ref("loan-2")


# --- Records: the contract hashes them exactly as ledger/core/records.py does ----------------


def test_domain_is_the_python_domain(rules: Rules) -> None:
    fields, name, version, chain_id, contract, salt, extensions = (
        rules.contract.functions.eip712Domain().call()
    )
    assert (name, version, chain_id, contract) == (
        rules.domain.name, rules.domain.version, rules.domain.chain_id,
        rules.domain.verifying_contract,
    )
    assert fields == b"\x0f" and salt == bytes(32) and extensions == []


def test_every_kind_of_record_extends_the_chain_with_its_python_hash(
    rules: Rules, platform: Platform
) -> None:
    schedule = Schedule.monthly(T0)
    records: list[tuple[Record, tuple[Any, ...]]] = [
        (platform.make(Binding, SUBJECT, action=BindingAction.BIND, phone=ref("p"),
                       account=ref("a"), factors=SMS_LIVENESS), ()),
        (platform.make(Verification, SUBJECT, method=VerificationMethod.CARRIER_MATCH,
                       passed=True, phone=ref("p")), ()),
        (platform.make(Consent, SUBJECT, action=ConsentAction.GIVEN, purpose=Purpose.LENDING,
                       policy_hash=ref("policy"), expires_at=T0 + DAY), ()),
        (platform.make(Consent, SUBJECT, action=ConsentAction.GIVEN, purpose=Purpose.CONTACT,
                       policy_hash=ref("policy"), expires_at=T0 + DAY), ()),
        (platform.make(LoanCreation, SUBJECT, loan=LOAN, due_times=schedule.due_times,
                       amounts=schedule.amounts), ()),
        (platform.make(Disbursement, SUBJECT, loan=LOAN, amount=300), ()),
        (platform.make(Repayment, SUBJECT, loan=LOAN, amount=50), schedule.args()),
        (platform.make(ChannelChange, SUBJECT, loan=LOAN, channel=ref("bank-2")), ()),
        (platform.make(CollectionContact, SUBJECT, loan=LOAN, channel=ref("p")), ()),
        (platform.make(Dispute, SUBJECT, loan=LOAN, action=DisputeAction.OPEN), ()),
    ]
    for record, extra in records:
        record = type(record)(**{**record.__dict__, "prev": platform.heads.get(SUBJECT,
                                                                                ZERO_HASH)})
        receipt = platform.submit(record, *extra)
        digest = record.digest(rules.domain)
        assert rules.events(receipt, "RecordAccepted") == [
            {"platform": platform.address, "subject": SUBJECT, "record": digest}
        ], record.TYPE_NAME
        assert rules.subject(platform, SUBJECT)["head"] == digest, record.TYPE_NAME


# --- R1, R2: an active binding with enough distinct factors ------------------------------------


def test_r1_disbursement_requires_a_binding(rules: Rules, platform: Platform) -> None:
    platform.consent(SUBJECT)
    platform.create_loan(SUBJECT, LOAN, Schedule.monthly(T0))
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesNoActiveBinding", (SUBJECT,))

    platform.bind(SUBJECT)
    platform.bind(SUBJECT, action=BindingAction.UNBIND, factors=0)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesNoActiveBinding", (SUBJECT,))

    receipt = platform.bind(SUBJECT)
    assert rules.events(receipt, "BindingChanged") == [
        {"platform": platform.address, "subject": SUBJECT, "action": 0, "factors": SMS_LIVENESS}
    ]
    rules.advance(COOLING)  # binding again after an unbind is a rebind (R4)
    receipt = platform.disburse(SUBJECT, LOAN)
    assert rules.events(receipt, "LoanDisbursed") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN, "amount": 300}
    ]
    assert rules.loan(SUBJECT, LOAN)["phase"] == DISBURSED


def test_r2_binding_needs_the_minimum_of_distinct_factors(rules: Rules, platform: Platform) -> None:
    platform.consent(SUBJECT)
    platform.create_loan(SUBJECT, LOAN, Schedule.monthly(T0))
    # Bits above the four known methods are not factors.
    platform.bind(SUBJECT, factors=SMS_ONLY | 0xF0)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesTooFewFactors", (SUBJECT, 1, 2))

    # Governance raises the minimum: two factors no longer suffice.
    receipt = rules.transact(rules.contract.functions.setParameter(MIN_FACTORS, 3), rules.admin)
    assert rules.events(receipt, "ParameterChanged") == [
        {"parameter": MIN_FACTORS, "previous": 2, "value": 3}
    ]
    rules.advance(COOLING)  # past the rebinds' cooling periods
    platform.bind(SUBJECT, action=BindingAction.REBIND, factors=SMS_LIVENESS)
    rules.advance(COOLING)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesTooFewFactors", (SUBJECT, 2, 3))

    platform.bind(SUBJECT, action=BindingAction.REBIND, factors=0b0111)
    rules.advance(COOLING)
    platform.disburse(SUBJECT, LOAN)


def test_binding_actions_follow_the_binding_state(platform: Platform) -> None:
    unbind = platform.make(Binding, SUBJECT, action=BindingAction.UNBIND, phone=ref("p"),
                           account=ref("a"), factors=0)
    assert platform.refused(unbind) == ("RiskRulesNotBound", (SUBJECT,))
    rebind = platform.make(Binding, SUBJECT, action=BindingAction.REBIND, phone=ref("p"),
                           account=ref("a"), factors=SMS_LIVENESS)
    assert platform.refused(rebind) == ("RiskRulesNotBound", (SUBJECT,))
    platform.bind(SUBJECT)
    bind = platform.make(Binding, SUBJECT, action=BindingAction.BIND, phone=ref("p2"),
                         account=ref("a"), factors=SMS_LIVENESS)
    assert platform.refused(bind) == ("RiskRulesAlreadyBound", (SUBJECT,))


# --- R3: consent -----------------------------------------------------------------------------


def test_r3_disbursement_requires_unexpired_lending_consent(rules: Rules, platform: Platform) -> None:
    platform.bind(SUBJECT)
    platform.create_loan(SUBJECT, LOAN, Schedule.monthly(T0))
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesNoConsent", (SUBJECT, LENDING))

    # Consent for contact is not consent for lending.
    platform.consent(SUBJECT, Purpose.CONTACT)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesNoConsent", (SUBJECT, LENDING))

    expires = T0 + 10 * DAY
    receipt = platform.consent(SUBJECT, Purpose.LENDING, expires_at=expires)
    assert rules.events(receipt, "ConsentChanged") == [
        {"platform": platform.address, "subject": SUBJECT, "purpose": LENDING, "given": True,
         "expiresAt": expires}
    ]
    rules.set_time(expires)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesConsentExpired", (SUBJECT, LENDING, expires))

    platform.consent(SUBJECT, Purpose.LENDING, expires_at=expires + DAY)
    platform.consent(SUBJECT, Purpose.LENDING, action=ConsentAction.WITHDRAWN)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesNoConsent", (SUBJECT, LENDING))

    platform.consent(SUBJECT, Purpose.LENDING, expires_at=expires + DAY)
    platform.disburse(SUBJECT, LOAN)


def test_consent_for_the_other_purposes_is_accepted_and_never_stands_for_lending_or_contact(
        rules: Rules, platform: Platform) -> None:
    platform.bind(SUBJECT)
    platform.create_loan(SUBJECT, LOAN, Schedule.monthly(T0))
    others = [p for p in Purpose if p not in (Purpose.LENDING, Purpose.CONTACT)]
    for purpose in others:
        receipt = platform.consent(SUBJECT, purpose)
        assert [e["purpose"] for e in rules.events(receipt, "ConsentChanged")] == [purpose]
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesNoConsent", (SUBJECT, LENDING))
    state = rules.subject(platform, SUBJECT)
    assert (state["lendingConsent"], state["contactConsent"]) == (False, False)


def test_refused_lending_consent_refuses_disbursement(rules: Rules, platform: Platform) -> None:
    platform.bind(SUBJECT)
    platform.create_loan(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.consent(SUBJECT, Purpose.LENDING)
    receipt = platform.consent(SUBJECT, Purpose.LENDING, action=ConsentAction.REFUSED)
    assert rules.events(receipt, "ConsentChanged") == [
        {"platform": platform.address, "subject": SUBJECT, "purpose": LENDING, "given": False,
         "expiresAt": 0}
    ]
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesNoConsent", (SUBJECT, LENDING))


def test_r3_collection_contact_requires_contact_consent(rules: Rules, platform: Platform) -> None:
    platform.bind(SUBJECT)
    platform.consent(SUBJECT, Purpose.LENDING)
    platform.create_loan(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.disburse(SUBJECT, LOAN)

    def contact() -> Record:
        return platform.make(CollectionContact, SUBJECT, loan=LOAN, channel=ref("phone-1"))

    assert platform.refused(contact()) == ("RiskRulesNoConsent", (SUBJECT, CONTACT))
    expires = T0 + 5 * DAY
    platform.consent(SUBJECT, Purpose.CONTACT, expires_at=expires)
    receipt = platform.submit(contact())
    assert rules.events(receipt, "CollectionContactRecorded") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN,
         "channel": ref("phone-1")}
    ]
    rules.set_time(expires + 1)
    assert platform.refused(contact()) == ("RiskRulesConsentExpired", (SUBJECT, CONTACT, expires))
    platform.consent(SUBJECT, Purpose.CONTACT, action=ConsentAction.WITHDRAWN)
    assert platform.refused(contact()) == ("RiskRulesNoConsent", (SUBJECT, CONTACT))


# --- R4: cooling period ----------------------------------------------------------------------


def test_r4_rebind_starts_a_cooling_period(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    rules.advance(HOUR)
    receipt = platform.bind(SUBJECT, action=BindingAction.REBIND, phone="phone-2")
    ends = rules.now + COOLING
    assert rules.events(receipt, "CoolingPeriodStarted") == [
        {"platform": platform.address, "subject": SUBJECT, "endsAt": ends}
    ]
    assert rules.subject(platform, SUBJECT)["coolingEndsAt"] == ends

    change = platform.make(ChannelChange, SUBJECT, loan=LOAN, channel=ref("bank-2"))
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesCoolingPeriod", (SUBJECT, ends))
    assert platform.refused(change) == ("RiskRulesCoolingPeriod", (SUBJECT, ends))

    rules.set_time(ends - 1)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesCoolingPeriod", (SUBJECT, ends))
    rules.set_time(ends)
    receipt = platform.submit(platform.make(ChannelChange, SUBJECT, loan=LOAN,
                                            channel=ref("bank-2")))
    assert rules.events(receipt, "RepaymentChannelChanged") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN, "channel": ref("bank-2")}
    ]
    platform.disburse(SUBJECT, LOAN)


def test_r4_positive_sim_swap_check_starts_a_cooling_period(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    # A passed SIM-swap check (no swap) starts nothing.
    receipt = platform.verify(SUBJECT, VerificationMethod.SIM_SWAP_CHECK, passed=True)
    assert rules.events(receipt, "CoolingPeriodStarted") == []
    assert rules.events(receipt, "VerificationRecorded") == [
        {"platform": platform.address, "subject": SUBJECT, "method": 3, "passed": True}
    ]
    platform.verify(SUBJECT, VerificationMethod.SIM_SWAP_CHECK, passed=False)
    ends = T0 + COOLING
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesCoolingPeriod", (SUBJECT, ends))
    # A later positive check extends the period; an earlier end never shortens it.
    rules.advance(DAY)
    platform.verify(SUBJECT, VerificationMethod.SIM_SWAP_CHECK, passed=False)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesCoolingPeriod", (SUBJECT, ends + DAY))
    rules.set_time(ends + DAY)
    platform.disburse(SUBJECT, LOAN)


def test_cooling_period_is_a_governance_parameter(rules: Rules, platform: Platform) -> None:
    rules.transact(rules.contract.functions.setParameter(COOLING_PERIOD, HOUR), rules.admin)
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.verify(SUBJECT, VerificationMethod.SIM_SWAP_CHECK, passed=False)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesCoolingPeriod", (SUBJECT, T0 + HOUR))
    rules.advance(HOUR)
    platform.disburse(SUBJECT, LOAN)


# --- R5: contact risk --------------------------------------------------------------------------


def test_r5_rebind_during_an_active_loan_flags_it_until_liveness(
    rules: Rules, platform: Platform
) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.create_loan(SUBJECT, LOAN_2, Schedule.monthly(T0))  # created, never disbursed
    platform.disburse(SUBJECT, LOAN)

    receipt = platform.bind(SUBJECT, action=BindingAction.REBIND, phone="phone-2")
    assert rules.events(receipt, "ContactRiskFlagged") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN}
    ]
    assert rules.loan(SUBJECT, LOAN)["contactRisk"]
    assert not rules.loan(SUBJECT, LOAN_2)["contactRisk"]

    # Neither a failed liveness check nor another method clears it.
    for method, passed in [(VerificationMethod.LIVENESS, False),
                           (VerificationMethod.SMS_OTP, True),
                           (VerificationMethod.CARRIER_MATCH, True)]:
        receipt = platform.verify(SUBJECT, method, passed)
        assert rules.events(receipt, "ContactRiskCleared") == []
        assert rules.loan(SUBJECT, LOAN)["contactRisk"]

    receipt = platform.verify(SUBJECT, VerificationMethod.LIVENESS, passed=True)
    assert rules.events(receipt, "ContactRiskCleared") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN}
    ]
    assert not rules.loan(SUBJECT, LOAN)["contactRisk"]


def test_unbinding_and_binding_again_counts_as_a_rebind(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.disburse(SUBJECT, LOAN)
    receipt = platform.bind(SUBJECT, action=BindingAction.UNBIND, factors=0)
    assert rules.events(receipt, "CoolingPeriodStarted") == []
    receipt = platform.bind(SUBJECT, phone="phone-2")
    assert rules.events(receipt, "CoolingPeriodStarted") == [
        {"platform": platform.address, "subject": SUBJECT, "endsAt": T0 + COOLING}
    ]
    assert rules.events(receipt, "ContactRiskFlagged") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN}
    ]
    change = platform.make(ChannelChange, SUBJECT, loan=LOAN, channel=ref("bank-2"))
    assert platform.refused(change) == ("RiskRulesCoolingPeriod", (SUBJECT, T0 + COOLING))


def test_r5_a_rebind_without_active_loans_flags_nothing(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    receipt = platform.bind(SUBJECT, action=BindingAction.REBIND, phone="phone-2")
    assert rules.events(receipt, "ContactRiskFlagged") == []
    assert not rules.loan(SUBJECT, LOAN)["contactRisk"]


def test_r5_another_platforms_rebind_does_not_flag_the_loan(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    platform.disburse(SUBJECT, LOAN)
    other_platform.bind(SUBJECT)
    receipt = other_platform.bind(SUBJECT, action=BindingAction.REBIND, phone="phone-2")
    assert rules.events(receipt, "ContactRiskFlagged") == []
    assert not rules.loan(SUBJECT, LOAN)["contactRisk"]
    # The cooling period is the subject's at every platform (R4), this one's too.
    change = platform.make(ChannelChange, SUBJECT, loan=LOAN, channel=ref("bank-2"))
    assert platform.refused(change) == ("RiskRulesCoolingPeriod", (SUBJECT, T0 + COOLING))


# --- R6: repayment status ----------------------------------------------------------------------


def test_r6_status_follows_the_schedule_and_the_time(rules: Rules, platform: Platform) -> None:
    schedule = Schedule.monthly(T0, count=3, amount=100)
    first, second, third = schedule.due_times
    platform.ready(SUBJECT, LOAN, schedule)
    assert rules.status(SUBJECT, LOAN) == CURRENT
    platform.disburse(SUBJECT, LOAN)

    for time, status in [
        (first, CURRENT),
        (first + 1, GRACE_STATUS),
        (first + GRACE, GRACE_STATUS),
        (first + GRACE + 1, DELINQUENT),
        (first + DEFAULT_AFTER - 1, DELINQUENT),
        (first + DEFAULT_AFTER, DEFAULTED),
    ]:
        rules.set_time(time)
        assert rules.status(SUBJECT, LOAN) == status, time - first

    # A partial repayment does not cure the first installment; paying it moves to the second.
    receipt = platform.repay(SUBJECT, LOAN, 60, schedule)
    assert rules.events(receipt, "RepaymentRecorded") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN, "amount": 60,
         "repaid": 60}
    ]
    assert rules.loan(SUBJECT, LOAN)["nextDue"] == first
    platform.repay(SUBJECT, LOAN, 40, schedule)
    assert rules.loan(SUBJECT, LOAN)["nextDue"] == second
    rules.set_time(second - 1)
    assert rules.status(SUBJECT, LOAN) == CURRENT
    rules.set_time(second + 1)
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS

    # Paying the rest closes the loan: it is CURRENT for good.
    receipt = platform.repay(SUBJECT, LOAN, 200, schedule)
    assert rules.events(receipt, "LoanRepaid") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN}
    ]
    rules.set_time(third + DEFAULT_AFTER)
    state = rules.loan(SUBJECT, LOAN)
    assert (state["phase"], state["status"], state["repaid"]) == (REPAID, CURRENT, 300)
    refused = platform.refused(platform.make(Repayment, SUBJECT, loan=LOAN, amount=1),
                               *schedule.args())
    assert refused == ("RiskRulesWrongLoanPhase", (LOAN, REPAID, DISBURSED))


def test_r6_late_status_does_not_advance_while_a_dispute_is_open(
    rules: Rules, platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=2)
    due = schedule.due_times[0]
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)

    rules.set_time(due + 10 * DAY)
    receipt = platform.dispute(SUBJECT, LOAN, DisputeAction.OPEN)
    assert rules.events(receipt, "DisputeOpened") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN,
         "openedAt": due + 10 * DAY}
    ]
    rules.set_time(due + 70 * DAY)
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS  # frozen at 10 days late

    receipt = platform.dispute(SUBJECT, LOAN, DisputeAction.CLOSE)
    assert rules.events(receipt, "DisputeClosed") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN,
         "pausedTotal": 60 * DAY}
    ]
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS  # lateness resumes at 10 days
    rules.advance(5 * DAY)
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS  # 15 days late
    rules.advance(1)
    assert rules.status(SUBJECT, LOAN) == DELINQUENT
    state = rules.loan(SUBJECT, LOAN)
    assert (state["pausedTotal"], state["disputePaused"]) == (60 * DAY, 60 * DAY)


def test_disputes_open_and_close_in_turn(platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    close = platform.make(Dispute, SUBJECT, loan=LOAN, action=DisputeAction.CLOSE)
    assert platform.refused(close) == ("RiskRulesDisputeState", (LOAN, False))
    platform.dispute(SUBJECT, LOAN, DisputeAction.OPEN)
    reopen = platform.make(Dispute, SUBJECT, loan=LOAN, action=DisputeAction.OPEN)
    assert platform.refused(reopen) == ("RiskRulesDisputeState", (LOAN, True))


# --- R7: exposure ----------------------------------------------------------------------------


def test_r7_no_disbursement_while_a_loan_is_delinquent_or_defaulted(
    rules: Rules, platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=1, amount=100)
    due = schedule.due_times[0]
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)
    platform.create_loan(SUBJECT, LOAN_2, Schedule.monthly(due + 100 * DAY))

    rules.set_time(due + GRACE)  # in grace: still allowed to check, not yet refused
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS
    rules.set_time(due + GRACE + 1)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN_2)) == (
        "RiskRulesSubjectInArrears", (SUBJECT, platform.address, LOAN, DELINQUENT))
    rules.set_time(due + DEFAULT_AFTER)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN_2)) == (
        "RiskRulesSubjectInArrears", (SUBJECT, platform.address, LOAN, DEFAULTED))

    platform.repay(SUBJECT, LOAN, 100, schedule)
    platform.disburse(SUBJECT, LOAN_2)


def test_r7_counts_loans_at_every_platform(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0, count=1)
    other_loan = ref("other-platform-loan")
    other_platform.ready(SUBJECT, other_loan, schedule)
    other_platform.disburse(SUBJECT, other_loan)
    rules.set_time(schedule.due_times[0] + GRACE + 1)
    platform.ready(SUBJECT, LOAN, Schedule.monthly(rules.now))
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesSubjectInArrears", (SUBJECT, other_platform.address, other_loan, DELINQUENT))


def test_grace_and_default_are_governance_parameters(rules: Rules, platform: Platform) -> None:
    set_parameter = rules.contract.functions.setParameter
    rules.transact(set_parameter(GRACE_PERIOD, DAY), rules.admin)
    rules.transact(set_parameter(DEFAULT_AFTER_PARAM, 2 * DAY), rules.admin)
    assert tuple(rules.contract.functions.parameters().call()) == (
        2, COOLING, DAY, 2 * DAY, DISPUTE_LIMIT, RECORD_MAX_AGE, RECORD_MAX_SKEW)
    schedule = Schedule.monthly(T0, count=1)
    platform.ready(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)
    rules.set_time(schedule.due_times[0] + DAY + 1)
    assert rules.status(SUBJECT, LOAN) == DELINQUENT
    rules.set_time(schedule.due_times[0] + 2 * DAY)
    assert rules.status(SUBJECT, LOAN) == DEFAULTED


# --- R8: freezes and governance ------------------------------------------------------------------


def test_r8_a_frozen_platform_can_change_nothing(rules: Rules, platform: Platform) -> None:
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    freeze = rules.contract.functions.setPlatformFrozen
    receipt = rules.transact(freeze(platform.address, True), rules.regulator)
    assert rules.events(receipt, "PlatformFreezeChanged") == [
        {"platform": platform.address, "frozen": True, "regulator": rules.regulator}
    ]
    assert rules.contract.functions.isPlatformFrozen(platform.address).call()
    for record in [
        platform.disbursement(SUBJECT, LOAN),
        platform.make(Binding, SUBJECT, action=BindingAction.UNBIND, phone=ref("p"),
                      account=ref("a"), factors=0),
        platform.make(Consent, SUBJECT, action=ConsentAction.WITHDRAWN, purpose=Purpose.LENDING,
                      policy_hash=ref("policy"), expires_at=0),
    ]:
        assert platform.refused(record) == ("RiskRulesPlatformFrozen", (platform.address,))

    rules.transact(freeze(platform.address, False), rules.regulator)
    platform.disburse(SUBJECT, LOAN)


def test_r8_a_frozen_loan_can_change_nothing(rules: Rules, platform: Platform) -> None:
    schedule = Schedule.monthly(T0)
    platform.ready(SUBJECT, LOAN, schedule)
    platform.create_loan(SUBJECT, LOAN_2, schedule)
    freeze = rules.contract.functions.setLoanFrozen
    receipt = rules.transact(freeze(platform.address, SUBJECT, LOAN, True), rules.regulator)
    assert rules.events(receipt, "LoanFreezeChanged") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN, "frozen": True,
         "pausedTotal": 0, "regulator": rules.regulator}
    ]
    assert rules.loan(SUBJECT, LOAN)["frozen"]
    frozen = ("RiskRulesLoanFrozen", (platform.address, SUBJECT, LOAN))
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == frozen
    assert platform.refused(platform.make(ChannelChange, SUBJECT, loan=LOAN,
                                          channel=ref("b"))) == frozen
    assert platform.refused(platform.make(Dispute, SUBJECT, loan=LOAN,
                                          action=DisputeAction.OPEN)) == frozen
    assert platform.refused(platform.make(CollectionContact, SUBJECT, loan=LOAN,
                                          channel=ref("b"))) == frozen
    platform.disburse(SUBJECT, LOAN_2)  # the subject's other loan is not frozen
    platform.submit(platform.make(Repayment, SUBJECT, loan=LOAN_2, amount=1), *schedule.args())

    rules.transact(freeze(platform.address, SUBJECT, LOAN, False), rules.regulator)
    platform.disburse(SUBJECT, LOAN)
    unknown = freeze(platform.address, SUBJECT, ref("no-such-loan"), True)
    assert rules.revert_of(unknown, rules.regulator) == (
        "RiskRulesUnknownLoan", (platform.address, SUBJECT, ref("no-such-loan")))


def test_parameters_have_their_defaults_and_change_only_within_bounds(rules: Rules) -> None:
    assert tuple(rules.contract.functions.parameters().call()) == (
        2, COOLING, GRACE, DEFAULT_AFTER, DISPUTE_LIMIT, RECORD_MAX_AGE, RECORD_MAX_SKEW)
    set_parameter = rules.contract.functions.setParameter
    for parameter, value in [(MIN_FACTORS, 0), (MIN_FACTORS, 5), (GRACE_PERIOD, DEFAULT_AFTER),
                             (DEFAULT_AFTER_PARAM, GRACE), (COOLING_PERIOD, 3651 * DAY),
                             (DEFAULT_AFTER_PARAM, 2**64 - 1), (DISPUTE_PAUSE_LIMIT, 3651 * DAY),
                             (RECORD_MAX_AGE_PARAM, DAY - 1), (RECORD_MAX_SKEW_PARAM, DAY + 1)]:
        assert rules.revert_of(set_parameter(parameter, value), rules.admin) == (
            "RiskRulesInvalidParameter", (parameter, value))
    receipt = rules.transact(set_parameter(DEFAULT_AFTER_PARAM, 60 * DAY), rules.admin)
    assert rules.events(receipt, "ParameterChanged") == [
        {"parameter": DEFAULT_AFTER_PARAM, "previous": DEFAULT_AFTER, "value": 60 * DAY}
    ]
    assert tuple(rules.contract.functions.parameters().call()) == (
        2, COOLING, GRACE, 60 * DAY, DISPUTE_LIMIT, RECORD_MAX_AGE, RECORD_MAX_SKEW)


# --- Access control ------------------------------------------------------------------------------


def test_a_record_signed_by_another_key_is_refused(rules: Rules, platform: Platform,
                                                   other_platform: Platform) -> None:
    record = platform.make(Binding, SUBJECT, action=BindingAction.BIND, phone=ref("p"),
                           account=ref("a"), factors=SMS_LIVENESS)
    forged = SignedRecord(record, sign_record(
        type(record)(**{**record.__dict__, "platform": other_platform.address}),
        rules.domain, bytes(other_platform.account.key)).signature)
    name, (recovered, named) = platform.refused(record, signed=forged)
    assert (name, named) == ("RiskRulesWrongSigner", platform.address)
    assert recovered not in (platform.address, ZERO_ADDRESS)

    # Signed for another deployment (another contract address): a different digest.
    elsewhere = Domain(rules.domain.chain_id, "0x" + "11" * 20)
    moved = sign_record(record, elsewhere, bytes(platform.account.key))
    name, (recovered, named) = platform.refused(record, signed=moved)
    assert (name, named) == ("RiskRulesWrongSigner", platform.address)
    assert recovered != platform.address

    for bad in (b"", b"\x01" * 64, moved.signature[:64] + b"\x05"):
        assert platform.refused(record, signed=SignedRecord(record, bad)) == (
            "RiskRulesWrongSigner", (ZERO_ADDRESS, platform.address))


def test_a_platform_without_the_role_is_refused_but_any_relayer_may_send(rules: Rules) -> None:
    unlisted = _platform(rules, 2, role=False)
    record = unlisted.make(Binding, SUBJECT, action=BindingAction.BIND, phone=ref("p"),
                           account=ref("a"), factors=SMS_LIVENESS)
    assert unlisted.refused(record) == (
        "AccessControlUnauthorizedAccount", (unlisted.address, PLATFORM_ROLE))

    rules.transact(rules.contract.functions.grantRole(PLATFORM_ROLE, unlisted.address),
                   rules.admin)
    # The relayer (rules.outsider) holds no role at all.
    signed = unlisted.sign(record)
    rules.transact(rules.call(signed), rules.outsider)
    assert rules.subject(unlisted, SUBJECT)["bound"]


def test_only_regulators_freeze_and_only_governance_sets_parameters(
    rules: Rules, platform: Platform
) -> None:
    functions = rules.contract.functions
    platform.ready(SUBJECT, LOAN, Schedule.monthly(T0))
    # Governance (the admin) manages roles but is no regulator.
    for sender in (rules.outsider, rules.admin):
        assert rules.revert_of(functions.setPlatformFrozen(platform.address, True), sender) == (
            "AccessControlUnauthorizedAccount", (sender, REGULATOR_ROLE))
        freeze_loan = functions.setLoanFrozen(platform.address, SUBJECT, LOAN, True)
        assert rules.revert_of(freeze_loan, sender) == (
            "AccessControlUnauthorizedAccount", (sender, REGULATOR_ROLE))
    for sender in (rules.outsider, rules.regulator, rules.relayer):
        assert rules.revert_of(functions.setParameter(MIN_FACTORS, 3), sender) == (
            "AccessControlUnauthorizedAccount", (sender, DEFAULT_ADMIN_ROLE))
    assert functions.parameters().call()[0] == 2
    assert not functions.isPlatformFrozen(platform.address).call()


# --- Hash chain and replays --------------------------------------------------------------------


def test_replays_and_broken_chains_are_refused(rules: Rules, platform: Platform) -> None:
    first = platform.make(Binding, SUBJECT, action=BindingAction.BIND, phone=ref("p"),
                          account=ref("a"), factors=SMS_LIVENESS)
    platform.submit(first)
    head = first.digest(rules.domain)
    assert platform.refused(first) == ("RiskRulesReplayedRecord", (SUBJECT, head))

    second = platform.make(Consent, SUBJECT, action=ConsentAction.GIVEN, purpose=Purpose.LENDING,
                           policy_hash=ref("policy"), expires_at=T0 + DAY)
    platform.submit(second)
    # The first record again: its prev (zero) is no longer the head.
    assert platform.refused(first) == (
        "RiskRulesBrokenChain", (SUBJECT, second.digest(rules.domain), ZERO_HASH))
    # A record skipping one (its prev is not the latest record).
    stale = platform.make(Consent, SUBJECT, prev=head, action=ConsentAction.WITHDRAWN,
                          purpose=Purpose.LENDING, policy_hash=ref("policy"), expires_at=0)
    assert platform.refused(stale) == (
        "RiskRulesBrokenChain", (SUBJECT, second.digest(rules.domain), head))
    # Chains are per platform and subject: another subject starts from zero.
    other = ref("subject-2")
    assert platform.refused(platform.make(Consent, other, prev=head, action=ConsentAction.GIVEN,
                                          purpose=Purpose.LENDING, policy_hash=ref("policy"),
                                          expires_at=T0 + DAY)) == (
        "RiskRulesBrokenChain", (other, ZERO_HASH, head))


# --- Loans: creation, ownership, schedule --------------------------------------------------------


def test_loan_creation_checks_the_schedule(rules: Rules, platform: Platform) -> None:
    def creation(due_times: tuple[int, ...], amounts: tuple[int, ...]) -> Record:
        return platform.make(LoanCreation, SUBJECT, loan=LOAN, due_times=due_times,
                             amounts=amounts)

    for due_times, amounts, index in [
        ((), (), 0),
        ((T0 + DAY,), (1, 2), 0),
        ((T0 + DAY, T0 + DAY), (1, 2), 1),
        ((T0 + 2 * DAY, T0 + DAY), (1, 2), 1),
        ((T0 + DAY, T0 + 2 * DAY), (1, 0), 1),
        ((T0 + DAY, T0 + 2 * DAY), (2**128 - 1, 1), 1),
    ]:
        assert platform.refused(creation(due_times, amounts)) == (
            "RiskRulesInvalidSchedule", (LOAN, index)), (due_times, amounts)

    schedule = Schedule.monthly(T0, count=2, amount=7)
    receipt = platform.create_loan(SUBJECT, LOAN, schedule)
    assert rules.events(receipt, "LoanCreated") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN, "installments": 2,
         "total": 14}
    ]
    state = rules.loan(SUBJECT, LOAN, platform)
    assert (state["phase"], state["nextDue"], state["total"]) == (
        CREATED, schedule.due_times[0], 14)
    assert platform.refused(creation(schedule.due_times, schedule.amounts)) == (
        "RiskRulesLoanExists", (platform.address, SUBJECT, LOAN))


def test_records_about_a_loan_need_the_platforms_loan(
    rules: Rules, platform: Platform, other_platform: Platform
) -> None:
    schedule = Schedule.monthly(T0)
    unknown = ref("no-such-loan")
    platform.ready(SUBJECT, LOAN, schedule)
    assert platform.refused(platform.disbursement(SUBJECT, unknown)) == (
        "RiskRulesUnknownLoan", (platform.address, SUBJECT, unknown))
    other_platform.ready(SUBJECT, LOAN_2, schedule)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN_2)) == (
        "RiskRulesUnknownLoan", (platform.address, SUBJECT, LOAN_2))
    refused = platform.refused(platform.make(Repayment, SUBJECT, loan=LOAN, amount=1),
                               *schedule.args())
    assert refused == ("RiskRulesWrongLoanPhase", (LOAN, CREATED, DISBURSED))
    platform.disburse(SUBJECT, LOAN)
    assert platform.refused(platform.disbursement(SUBJECT, LOAN)) == (
        "RiskRulesWrongLoanPhase", (LOAN, DISBURSED, CREATED))
    other = Schedule(schedule.due_times, (*schedule.amounts[:-1], schedule.amounts[-1] + 1))
    refused = platform.refused(platform.make(Repayment, SUBJECT, loan=LOAN, amount=1),
                               *other.args())
    assert refused == ("RiskRulesScheduleMismatch", (LOAN,))


def test_repaid_loans_leave_the_subjects_open_loans(rules: Rules, platform: Platform) -> None:
    # Three open loans; repaying the middle one moves the last into its place.
    loans = [ref(f"loan-{i}") for i in range(3)]
    schedule = Schedule.monthly(T0, count=1, amount=5)
    platform.bind(SUBJECT)
    platform.consent(SUBJECT)
    for loan in loans:
        platform.create_loan(SUBJECT, loan, schedule)
        platform.disburse(SUBJECT, loan)
    platform.repay(SUBJECT, loans[1], 5, schedule)
    rules.set_time(schedule.due_times[0] + GRACE + 1)
    # Both remaining loans are still seen by R7 (the first one found is reported).
    assert platform.refused(platform.make(LoanCreation, SUBJECT, loan=loans[1],
                                          due_times=schedule.due_times,
                                          amounts=schedule.amounts)) == (
        "RiskRulesLoanExists", (platform.address, SUBJECT, loans[1]))
    new = ref("loan-new")
    platform.create_loan(SUBJECT, new, Schedule.monthly(rules.now))
    assert platform.refused(platform.disbursement(SUBJECT, new)) == (
        "RiskRulesSubjectInArrears", (SUBJECT, platform.address, loans[0], DELINQUENT))
    platform.repay(SUBJECT, loans[0], 5, schedule)
    assert platform.refused(platform.disbursement(SUBJECT, new)) == (
        "RiskRulesSubjectInArrears", (SUBJECT, platform.address, loans[2], DELINQUENT))
    platform.repay(SUBJECT, loans[2], 5, schedule)
    platform.disburse(SUBJECT, new)
    assert rules.borrower(SUBJECT)["openLoans"] == 1


def test_a_subject_has_at_most_six_open_loans(rules: Rules, platform: Platform,
                                               other_platform: Platform) -> None:
    schedule = Schedule.monthly(T0, count=1, amount=5)
    loans = [ref(f"loan-{i}") for i in range(7)]
    # Three at each of two platforms: the bound is the subject's, across the consortium.
    for lender, mine in ((platform, loans[:3]), (other_platform, loans[3:6])):
        lender.bind(SUBJECT)
        lender.consent(SUBJECT)
        for loan in mine:
            lender.create_loan(SUBJECT, loan, schedule)
            lender.disburse(SUBJECT, loan)
    third = _platform(rules, 2)
    third.ready(SUBJECT, loans[6], schedule)
    assert third.refused(third.disbursement(SUBJECT, loans[6])) == (
        "RiskRulesTooManyOpenLoans", (SUBJECT, 6))
    platform.repay(SUBJECT, loans[1], 5, schedule)
    third.disburse(SUBJECT, loans[6])
    assert rules.borrower(SUBJECT)["openLoans"] == 6


def test_unknown_codes_are_refused(platform: Platform) -> None:
    platform.bind(SUBJECT)
    for kind, members, code in [
        (Verification, {"method": 4, "passed": True, "phone": ref("p")}, 4),
        (Consent, {"action": 3, "purpose": 0, "policy_hash": ref("x"), "expires_at": 0}, 3),
        (Consent, {"action": 0, "purpose": 6, "policy_hash": ref("x"), "expires_at": 0}, 6),
        (Binding, {"action": 3, "phone": ref("p"), "account": ref("a"), "factors": 3}, 3),
    ]:
        record = _raw(platform, kind, SUBJECT, members)
        assert platform.refused(record) == ("RiskRulesUnknownCode", (code,)), (kind, members)


def _raw(platform: Platform, kind: type[Record], subject: bytes, members: dict[str, Any]) -> Record:
    """A record whose enum members hold codes outside the Python enums (as a buggy client's)."""
    template = {
        Verification: {"method": VerificationMethod.SMS_OTP},
        Consent: {"action": ConsentAction.GIVEN, "purpose": Purpose.LENDING},
        Binding: {"action": BindingAction.BIND},
    }[kind]
    record = platform.make(kind, subject, **{**members, **template})
    for name, value in members.items():
        object.__setattr__(record, name, value)
    return record


# --- The channel-takeover case, end to end -------------------------------------------------------


def test_channel_takeover_end_to_end(rules: Rules, platform: Platform) -> None:
    schedule = Schedule.monthly(T0, count=3, amount=100)
    due = schedule.due_times[0]

    # Bound with SMS one-time code and face liveness, consent given, loan disbursed.
    platform.bind(SUBJECT, factors=SMS_LIVENESS)
    platform.consent(SUBJECT, Purpose.LENDING)
    platform.consent(SUBJECT, Purpose.CONTACT)
    platform.create_loan(SUBJECT, LOAN, schedule)
    platform.disburse(SUBJECT, LOAN)

    # Weeks later: the carrier reports a SIM swap, and the number is rebound by someone else.
    rules.set_time(due - 3 * DAY)
    platform.verify(SUBJECT, VerificationMethod.SIM_SWAP_CHECK, passed=False)
    rules.advance(HOUR)
    receipt = platform.bind(SUBJECT, action=BindingAction.REBIND, factors=SMS_ONLY,
                            phone="attacker-phone")
    ends = rules.now + COOLING
    assert rules.events(receipt, "ContactRiskFlagged") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN}
    ]
    assert rules.loan(SUBJECT, LOAN)["contactRisk"]

    # The new holder tries to move the repayment channel: refused during cooling (R4).
    takeover = platform.make(ChannelChange, SUBJECT, loan=LOAN, channel=ref("attacker-bank"))
    assert platform.refused(takeover) == ("RiskRulesCoolingPeriod", (SUBJECT, ends))

    # Repayment notices went astray; the borrower disputes, and late status stops advancing.
    rules.set_time(due + 5 * DAY)
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS
    platform.dispute(SUBJECT, LOAN, DisputeAction.OPEN)
    rules.set_time(due + 60 * DAY)
    assert rules.status(SUBJECT, LOAN) == GRACE_STATUS

    # The borrower re-verifies with face liveness: the flag is cleared.
    receipt = platform.verify(SUBJECT, VerificationMethod.LIVENESS, passed=True)
    assert rules.events(receipt, "ContactRiskCleared") == [
        {"platform": platform.address, "subject": SUBJECT, "loan": LOAN}
    ]
    state = rules.loan(SUBJECT, LOAN)
    assert (state["contactRisk"], state["disputeOpen"], state["status"]) == (
        False, True, GRACE_STATUS)

    # Resolved: the dispute closes, the borrower pays the installment, the loan is current. The
    # 55 days of dispute are not held against the borrower: later due times move by as much.
    platform.dispute(SUBJECT, LOAN, DisputeAction.CLOSE)
    platform.repay(SUBJECT, LOAN, 100, schedule)
    assert rules.status(SUBJECT, LOAN) == CURRENT
    state = rules.loan(SUBJECT, LOAN)
    assert (state["pausedTotal"], state["nextDue"]) == (55 * DAY, schedule.due_times[1] + 55 * DAY)


# --- Gas -------------------------------------------------------------------------------------


def test_every_rule_operation_is_within_the_gas_budget() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "gas_rules.py"
    spec = importlib.util.spec_from_file_location("gas_rules", path)
    assert spec is not None and spec.loader is not None
    gas_rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gas_rules)
    lines: list[str] = []
    assert gas_rules.main(lines.append) == 0, "\n".join(lines)
    print("\n".join(lines))
