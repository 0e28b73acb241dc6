"""Record drafts: what a platform sends when BindLedger signs on its behalf.

A draft carries raw identifiers (phone number, ID number, account number). They are turned
into keyed references here and exist nowhere else: not in the record, the database, the
chain or a log line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    WithJsonSchema,
)

from ledger.core.encoding import from_hex, to_hex
from ledger.core.records import (
    MAX_INSTALLMENTS,
    Binding,
    BindingAction,
    ChannelChange,
    CollectionContact,
    Consent,
    ConsentAction,
    Disbursement,
    Dispute,
    DisputeAction,
    LoanCreation,
    Purpose,
    Record,
    Repayment,
    Verification,
    VerificationMethod,
    factor_mask,
)
from ledger.core.refs import account_ref, check_secret, phone_ref, subject_ref


def _by_name(enum: type[IntEnum]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, enum):
            return value
        if isinstance(value, str) and value in enum.__members__:
            return enum[value]
        raise ValueError(f"must be one of {list(enum.__members__)}")

    return parse


def EnumName(enum: type[IntEnum]) -> Any:
    """An IntEnum field that is written and read by member name (`"SMS_OTP"`)."""
    return Annotated[
        enum,
        BeforeValidator(_by_name(enum)),
        PlainSerializer(lambda v: v.name, return_type=str),
        # The whole schema: the IntEnum's own (integer values) would contradict the names.
        WithJsonSchema({"type": "string", "enum": list(enum.__members__)}),
    ]


def _bytes32(value: Any) -> bytes:
    return from_hex(value, length=32, what="value")


# In JSON as it was sent, 0x-hex: pydantic would write the bytes as UTF-8 text, which most
# hashes are not (the fingerprint of an idempotent write reads the draft as JSON).
Hex32 = Annotated[bytes, BeforeValidator(_bytes32),
                  PlainSerializer(to_hex, return_type=str, when_used="json"),
                  WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"})]
UInt64 = Annotated[StrictInt, Field(ge=0, lt=1 << 64)]
UInt128 = Annotated[StrictInt, Field(ge=0, lt=1 << 128)]
Identifier = Annotated[str, Field(min_length=1, max_length=256)]


class _Draft(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    subject_id: Identifier = Field(alias="subjectId", description="the borrower's ID (raw)")
    timestamp: UInt64 | None = Field(None, description="when the fact happened (default: now)")


class BindingDraft(_Draft):
    type: Literal["Binding"]
    action: EnumName(BindingAction)  # type: ignore[valid-type]
    phone: str = Field(min_length=1, max_length=64, description="phone number (raw)")
    account_id: Identifier = Field(alias="accountId", description="loan account (raw)")
    factors: list[EnumName(VerificationMethod)] = Field(  # type: ignore[valid-type]
        default_factory=list,
        max_length=len(VerificationMethod),
        description="verification methods that established the binding",
    )


class VerificationDraft(_Draft):
    type: Literal["Verification"]
    method: EnumName(VerificationMethod)  # type: ignore[valid-type]
    passed: StrictBool = Field(description="for SIM_SWAP_CHECK, false means a swap was detected")
    phone: str = Field(min_length=1, max_length=64, description="phone number (raw)")


class ConsentDraft(_Draft):
    type: Literal["Consent"]
    action: EnumName(ConsentAction)  # type: ignore[valid-type]
    purpose: EnumName(Purpose)  # type: ignore[valid-type]
    policy_hash: Hex32 = Field(alias="policyHash", description="hash of the privacy policy text")
    expires_at: UInt64 = Field(alias="expiresAt", description="unix time the consent lapses")


class LoanDraft(_Draft):
    """A loan with its installment schedule: installment i of `amounts[i]` is due at
    `dueTimes[i]` (the contract requires due times strictly increasing and no zero amount)."""

    loan_id: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        alias="loanId", description="the platform's loan number (raw)"
    )
    due_times: list[UInt64] = Field(
        alias="dueTimes", min_length=1, max_length=MAX_INSTALLMENTS,
        description="unix time each installment is due",
    )
    amounts: list[UInt128] = Field(
        min_length=1, max_length=MAX_INSTALLMENTS, description="amount of each installment"
    )


class _LoanEventDraft(BaseModel):
    """A record about a loan the API already knows: its subject and id come from the loan."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    timestamp: UInt64 | None = Field(None, description="when the fact happened (default: now)")


class DisbursementDraft(_LoanEventDraft):
    amount: UInt128 = Field(description="amount paid out")


class RepaymentDraft(_LoanEventDraft):
    amount: UInt128 = Field(description="amount received")


class ChannelChangeDraft(_LoanEventDraft):
    channel: Identifier = Field(description="the new repayment account (raw)")


class CollectionContactDraft(_LoanEventDraft):
    channel: str = Field(
        min_length=1, max_length=64, description="phone number the subject was contacted on (raw)"
    )


class DisputeDraft(_LoanEventDraft):
    loan_id: Hex32 = Field(
        alias="loanId", description="the loan's id, as POST /v1/loans returned it"
    )


RecordDraft = Annotated[
    BindingDraft | VerificationDraft | ConsentDraft, Field(discriminator="type")
]


@dataclass(frozen=True)
class Referencer:
    """Turns raw identifiers into keyed references under the deployment's secret."""

    secret: bytes

    def __post_init__(self) -> None:
        check_secret(self.secret)

    def subject(self, raw: str) -> bytes:
        return subject_ref(self.secret, raw)

    def phone(self, raw: str) -> bytes:
        return phone_ref(self.secret, raw)

    def account(self, raw: str) -> bytes:
        return account_ref(self.secret, raw)

    def loan(self, platform: str, raw: str) -> bytes:
        """A loan's id: the keyed reference of the platform's loan number, within the platform
        (two platforms may both number a loan LOAN-1 for the same borrower)."""
        return account_ref(self.secret, f"LOAN/{platform}/{raw}")


@dataclass(frozen=True)
class PreparedDraft:
    """A draft with its references computed; `build(prev)` makes the record to sign."""

    subject: bytes
    build: Callable[[bytes], Record]


def prepare(
    draft: BindingDraft | VerificationDraft | ConsentDraft,
    platform: str,
    refs: Referencer,
    now: int,
) -> PreparedDraft:
    """Compute references (raises InvalidPhoneNumberError etc.) and return the record builder."""
    subject = refs.subject(draft.subject_id)
    timestamp = draft.timestamp if draft.timestamp is not None else now
    match draft:
        case BindingDraft():
            phone, account = refs.phone(draft.phone), refs.account(draft.account_id)
            factors = factor_mask(draft.factors)
            return PreparedDraft(
                subject,
                lambda prev: Binding(
                    platform=platform,
                    subject=subject,
                    timestamp=timestamp,
                    prev=prev,
                    action=draft.action,
                    phone=phone,
                    account=account,
                    factors=factors,
                ),
            )
        case VerificationDraft():
            phone = refs.phone(draft.phone)
            return PreparedDraft(
                subject,
                lambda prev: Verification(
                    platform=platform,
                    subject=subject,
                    timestamp=timestamp,
                    prev=prev,
                    method=draft.method,
                    passed=draft.passed,
                    phone=phone,
                ),
            )
        case ConsentDraft():
            return PreparedDraft(
                subject,
                lambda prev: Consent(
                    platform=platform,
                    subject=subject,
                    timestamp=timestamp,
                    prev=prev,
                    action=draft.action,
                    purpose=draft.purpose,
                    policy_hash=draft.policy_hash,
                    expires_at=draft.expires_at,
                ),
            )


def prepare_loan(draft: LoanDraft, platform: str, refs: Referencer, now: int) -> PreparedDraft:
    """The loan creation record builder of a loan draft (raises InvalidIdentifierError etc.)."""
    subject = refs.subject(draft.subject_id)
    loan = refs.loan(platform, draft.loan_id)
    timestamp = draft.timestamp if draft.timestamp is not None else now
    return PreparedDraft(
        subject,
        lambda prev: LoanCreation(
            platform=platform,
            subject=subject,
            prev=prev,
            timestamp=timestamp,
            loan=loan,
            due_times=tuple(draft.due_times),
            amounts=tuple(draft.amounts),
        ),
    )


LoanEventDraft = (
    DisbursementDraft | RepaymentDraft | ChannelChangeDraft | CollectionContactDraft
)


def prepare_loan_event(
    draft: LoanEventDraft, creation: LoanCreation, refs: Referencer, now: int
) -> PreparedDraft:
    """The builder of a record about the loan `creation` created (same platform and subject)."""
    timestamp = draft.timestamp if draft.timestamp is not None else now
    kind: type[Disbursement | Repayment | ChannelChange | CollectionContact]
    match draft:
        case DisbursementDraft() | RepaymentDraft():
            kind = Disbursement if isinstance(draft, DisbursementDraft) else Repayment
            members: dict[str, Any] = {"amount": draft.amount}
        case ChannelChangeDraft():
            kind, members = ChannelChange, {"channel": refs.account(draft.channel)}
        case CollectionContactDraft():
            kind, members = CollectionContact, {"channel": refs.phone(draft.channel)}

    def build(prev: bytes) -> Record:
        return kind(
            platform=creation.platform,
            subject=creation.subject,
            prev=prev,
            timestamp=timestamp,
            loan=creation.loan,
            **members,
        )

    return PreparedDraft(creation.subject, build)


def prepare_dispute(
    creation: LoanCreation, action: DisputeAction, timestamp: int | None, now: int
) -> PreparedDraft:
    """The builder of a dispute record opening or closing a dispute on the loan."""
    return PreparedDraft(
        creation.subject,
        lambda prev: Dispute(
            platform=creation.platform,
            subject=creation.subject,
            prev=prev,
            timestamp=timestamp if timestamp is not None else now,
            loan=creation.loan,
            action=action,
        ),
    )
