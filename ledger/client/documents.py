"""Records from JSON documents that hold raw values where references belong.

A document is a record's JSON form (docs/spec/records.md) with three allowances: `platform`
may be left out (the signing key's address is used), `prev` and `timestamp` may be left out
(the caller supplies them), and each reference member (`subject`, `phone`, `account`, `loan`,
`channel`) may hold either a 0x reference of 32 bytes or the raw value, which is turned into its
reference here, as may the draft API's names for them (`subjectId`, `accountId`, `loanId`), so a
draft written for `POST /v1/records` signs as it stands. A binding's `factors` may also be a
list of method names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ledger.client.references import References
from ledger.core.encoding import HexDecodeError, parse_address, to_hex
from ledger.core.records import (
    RECORD_TYPES,
    ChannelChange,
    CollectionContact,
    Record,
    RecordDecodeError,
    VerificationMethod,
    factor_mask,
)
from ledger.core.reference_guard import check_references, reference_members

_REFERENCE = re.compile(r"0x[0-9a-fA-F]{64}")
# The draft API's names of reference members (api: POST /v1/records, /v1/loans).
_DRAFT_NAMES = {"subjectId": "subject", "accountId": "account", "loanId": "loan"}


def record_from_document(
    doc: object,
    platform: str,
    refs: References | None,
    prev: Callable[[bytes], bytes],
    now: int,
) -> Record:
    """The record `doc` describes, signed-ready: raw values replaced by their references.

    `refs` may be None for documents that hold references only. `prev(subject)` gives the head to use when the document names none; `now` the timestamp
    when it gives none. Raises RecordDecodeError, InvalidPhoneNumberError,
    InvalidIdentifierError or RawValueReferenceError, each naming the member at fault and never
    quoting a raw value.
    """
    if not isinstance(doc, Mapping):
        raise RecordDecodeError("a record document must be a JSON object")
    type_name = doc.get("type")
    kind = RECORD_TYPES.get(type_name) if isinstance(type_name, str) else None
    if kind is None or not kind.PLATFORM_WRITES:
        writable = sorted(name for name, t in RECORD_TYPES.items() if t.PLATFORM_WRITES)
        raise RecordDecodeError(f"record type must be one of {writable}")
    if "signature" in doc:
        raise RecordDecodeError(f"{kind.TYPE_NAME}: the document is signed already")
    out: dict[str, Any] = dict(doc)
    for draft_name, member in _DRAFT_NAMES.items():
        if draft_name in out:
            if member in out:
                raise RecordDecodeError(
                    f"{kind.TYPE_NAME}: give {member} or {draft_name}, not both"
                )
            out[member] = out.pop(draft_name)
    try:
        named = parse_address(out.setdefault("platform", platform), f"{kind.TYPE_NAME}.platform")
    except HexDecodeError as exc:
        raise RecordDecodeError(str(exc)) from None
    if named != platform:
        raise RecordDecodeError(
            f"{kind.TYPE_NAME}.platform is {named}, but the signing key is {platform}"
        )
    for member in reference_members(kind):
        value = out.get(member)
        if member in out and not isinstance(value, str):
            # Never quoted: a number here may be a raw phone or ID number.
            raise RecordDecodeError(
                f"{kind.TYPE_NAME}.{member} must be a string: a raw value or a 0x reference"
            )
        if isinstance(value, str) and not _REFERENCE.fullmatch(value):
            if refs is None:
                raise RecordDecodeError(
                    f"{kind.TYPE_NAME}.{member} holds a raw value: its reference needs the "
                    "consortium's reference secret"
                )
            out[member] = to_hex(_reference_of(kind, member, refs, platform)(value))
    if isinstance(out.get("factors"), list):
        out["factors"] = _factors(out["factors"])
    out.setdefault("timestamp", now)
    if "prev" not in out and isinstance(out.get("subject"), str):
        try:
            subject = bytes.fromhex(out["subject"][2:])
        except ValueError:
            subject = b""
        if len(subject) == 32:
            out["prev"] = to_hex(prev(subject))
    record = kind.from_json(out)
    check_references(record)
    return record


def _reference_of(
    kind: type[Record], member: str, refs: References, platform: str
) -> Callable[[str], bytes]:
    if member == "subject":
        return refs.subject
    if member == "phone" or (member == "channel" and kind is CollectionContact):
        return refs.phone  # a collection contact's channel is the number called
    if member == "loan":
        return lambda raw: refs.loan(platform, raw)
    if member == "account" or (member == "channel" and kind is ChannelChange):
        return refs.account  # a repayment channel is an account
    raise RecordDecodeError(f"{kind.TYPE_NAME}.{member}: no raw form is known")


def _factors(names: list[Any]) -> int:
    methods = []
    for name in names:
        if not isinstance(name, str) or name not in VerificationMethod.__members__:
            raise RecordDecodeError(
                f"Binding.factors must name methods of {list(VerificationMethod.__members__)}"
            )
        methods.append(VerificationMethod[name])
    return factor_mask(methods)
