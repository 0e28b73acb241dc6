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
)

from ledger.core.encoding import from_hex
from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Purpose,
    Record,
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
        Field(json_schema_extra={"enum": list(enum.__members__), "type": "string"}),
    ]


def _bytes32(value: Any) -> bytes:
    return from_hex(value, length=32, what="value")


Hex32 = Annotated[bytes, BeforeValidator(_bytes32), Field(json_schema_extra={"type": "string"})]
UInt64 = Annotated[StrictInt, Field(ge=0, lt=1 << 64)]
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
