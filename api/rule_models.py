"""Response models of the rule routes (subjects, loans, disputes, freezes)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.shapes import Address, Bytes32
from ledger.core.encoding import to_hex
from ledger.core.records import factors_of
from ledger.risk.warnings import LoggedWarning
from ledger.rules import BorrowerState, LoanState, PhoneState, RuleAccepted, SubjectState


class RuleRecordCreated(BaseModel):
    """A rule record accepted by the contract and stored in the log."""

    id: int = Field(description="the record's id in the log (GET /v1/records/{id})")
    type: str
    record_hash: Bytes32 = Field(serialization_alias="recordHash")
    leaf_index: int = Field(serialization_alias="leafIndex")
    subject: Bytes32 = Field(description="the subject's keyed reference")
    platform: Address
    tx_hash: Bytes32 = Field(serialization_alias="txHash", description="the contract call")
    block_number: int = Field(serialization_alias="blockNumber")

    @classmethod
    def of(cls, done: RuleAccepted) -> RuleRecordCreated:
        row = done.accepted.row
        return cls(
            id=row.id,
            type=row.record_type,
            record_hash=to_hex(row.record_hash),
            leaf_index=row.leaf_index,
            subject=to_hex(row.subject),
            platform=row.platform,
            tx_hash=to_hex(done.tx.tx_hash),
            block_number=done.tx.block_number,
        )


class LoanCreated(BaseModel):
    id: Bytes32 = Field(description="the loan's id in this API: the hash of its creation record")
    loan: Bytes32 = Field(description="the loan's id on chain (keyed reference of its number)")
    record: RuleRecordCreated


class LoanRecordCreated(BaseModel):
    loan_id: Bytes32 = Field(serialization_alias="loanId")
    record: RuleRecordCreated


class LoanRisk(BaseModel):
    """The loan as the contract sees it now (rules R5, R6, R8)."""

    id: Bytes32
    loan: Bytes32
    subject: Bytes32
    platform: Address
    phase: str = Field(description="NONE, CREATED, DISBURSED, REPAID or WRITTEN_OFF")
    status: str = Field(description="CURRENT, GRACE, DELINQUENT or DEFAULTED (R6)")
    contact_risk: bool = Field(
        serialization_alias="contactRisk",
        description="R5: flagged by a rebind at the platform, or the borrower's number reused",
    )
    frozen: bool
    dispute_open: bool = Field(serialization_alias="disputeOpen")
    next_due: int = Field(serialization_alias="nextDue")
    repaid: int
    total: int = Field(description="the schedule's total, disbursed in full")
    paused_total: int = Field(
        serialization_alias="pausedTotal",
        description="seconds the lateness clock stood (freezes, disputes within their limit)",
    )
    dispute_paused: int = Field(
        serialization_alias="disputePaused",
        description="seconds of paused time owed to disputes, at most the loan's limit",
    )

    @classmethod
    def of(cls, loan_id: bytes, subject: bytes, loan: bytes, state: LoanState) -> LoanRisk:
        return cls(
            id=to_hex(loan_id), loan=to_hex(loan), subject=to_hex(subject),
            platform=state.platform, phase=state.phase.name, status=state.status.name,
            contact_risk=state.contact_risk, frozen=state.frozen,
            dispute_open=state.dispute_open, next_due=state.next_due, repaid=state.repaid,
            total=state.total, paused_total=state.paused_total,
            dispute_paused=state.dispute_paused,
        )


class SubjectBinding(BaseModel):
    """A subject's binding, verification factors, cooling period and consent at the platform."""

    subject: Bytes32
    platform: Address
    bound: bool
    factors: list[str]
    min_factors: int = Field(serialization_alias="minFactors")
    active: bool = Field(description="bound with at least minFactors distinct factors (R1, R2)")
    cooling_ends_at: int = Field(
        serialization_alias="coolingEndsAt",
        description="R4: the later of the subject's cooling (started at any platform) and that "
        "of the phone it is bound to here",
    )
    phone: Bytes32 = Field(description="the phone of the subject's latest bind or rebind here")
    lending_consent: bool = Field(serialization_alias="lendingConsent")
    lending_consent_expires_at: int = Field(serialization_alias="lendingConsentExpiresAt")
    contact_consent: bool = Field(serialization_alias="contactConsent")
    contact_consent_expires_at: int = Field(serialization_alias="contactConsentExpiresAt")
    head: Bytes32 = Field(description="hash of the subject's latest record, on chain and in the log")
    platform_frozen: bool = Field(serialization_alias="platformFrozen")
    risk_warnings: list[RiskWarningView] = Field(
        default_factory=list, serialization_alias="riskWarnings",
        description="the risk model's warnings about the subject at the platform, oldest first",
    )
    risk_warning_open: bool = Field(
        default=False, serialization_alias="riskWarningOpen",
        description="R9, as the contract holds it: the latest warning awaits a fresh passed "
        "liveness check and a passed SIM-swap check, and the contract refuses disbursements",
    )
    risk_warned_at: int = Field(
        default=0, serialization_alias="riskWarnedAt",
        description="R9: the time of the warning in force on chain (0 when none)",
    )

    @classmethod
    def of(cls, subject: bytes, platform: str, state: SubjectState, min_factors: int,
           frozen: bool) -> SubjectBinding:
        factors = [m.name for m in factors_of(state.factors)]
        return cls(
            subject=to_hex(subject), platform=platform, bound=state.bound, factors=factors,
            min_factors=min_factors, active=state.bound and len(factors) >= min_factors,
            cooling_ends_at=state.cooling_ends_at, lending_consent=state.lending_consent,
            lending_consent_expires_at=state.lending_consent_expires_at,
            contact_consent=state.contact_consent,
            contact_consent_expires_at=state.contact_consent_expires_at,
            phone=to_hex(state.phone), head=to_hex(state.head), platform_frozen=frozen,
        )


class RiskWarningView(BaseModel):
    """A RiskWarning record: the model's score of the subject and why."""

    id: int = Field(description="the record's id in the log (GET /v1/records/{id})")
    record_hash: Bytes32 = Field(serialization_alias="recordHash")
    timestamp: int
    score: int = Field(description="basis points of the calibrated probability")
    threshold: int = Field(description="the threshold it reached, in basis points")
    model: Bytes32 = Field(description="SHA-256 of the model file, as in its ModelRelease")
    top_features: list[str] = Field(serialization_alias="topFeatures",
                                    description="the features that contributed most")

    @classmethod
    def of(cls, logged: LoggedWarning) -> RiskWarningView:
        record = logged.record
        return cls(id=logged.record_id, record_hash=to_hex(logged.record_hash),
                   timestamp=record.timestamp, score=record.score, threshold=record.threshold,
                   model=to_hex(record.model), top_features=logged.top_names)


class PhoneSignals(BaseModel):
    """What the consortium's contract holds of a phone: its last holder and the cooling periods
    (R4) that stop a takeover at every platform, with the holder's number reuse flag (R5)."""

    phone: Bytes32 = Field(description="the phone's keyed reference")
    holder: Bytes32 | None = Field(description="the subject last bound to it, at any platform")
    cooling_ends_at: int = Field(
        serialization_alias="coolingEndsAt",
        description="R4: no subject bound to the phone, at any platform, is disbursed to before",
    )
    holder_cooling_ends_at: int = Field(
        serialization_alias="holderCoolingEndsAt",
        description="R4: the holder's own cooling (a rebind or SIM swap at any platform)",
    )
    holder_number_reused: bool = Field(
        serialization_alias="holderNumberReused",
        description="R5: the holder's number went to another subject since its last liveness",
    )
    holder_open_loans: int = Field(serialization_alias="holderOpenLoans",
                                   description="R7: the holder's open loans, at every platform")

    @classmethod
    def of(cls, phone: bytes, state: PhoneState, holder: BorrowerState | None) -> PhoneSignals:
        return cls(
            phone=to_hex(phone),
            holder=None if holder is None else to_hex(state.holder),
            cooling_ends_at=state.cooling_ends_at,
            holder_cooling_ends_at=0 if holder is None else holder.cooling_ends_at,
            holder_number_reused=holder is not None and holder.number_reused,
            holder_open_loans=0 if holder is None else holder.open_loans,
        )


class DisputeOpened(BaseModel):
    id: Bytes32 = Field(description="the dispute's id: the hash of the record that opened it")
    loan_id: Bytes32 = Field(serialization_alias="loanId")
    record: RuleRecordCreated


class FreezeDone(BaseModel):
    platform: Address | None = None
    subject: Bytes32 | None = None
    loan: Bytes32 | None = None
    frozen: bool
    regulator: Address
    tx_hash: Bytes32 = Field(serialization_alias="txHash")
    block_number: int = Field(serialization_alias="blockNumber")
