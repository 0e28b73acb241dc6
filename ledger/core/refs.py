"""Keyed references: how BindLedger names people and phone numbers without revealing them.

A plain hash of a phone number can be reversed by enumerating the ~10^11 numbers of a
country in minutes, so every reference is an HMAC-SHA256 under a secret of the deployment.
Each kind of value has its own label, so a phone reference can never collide with a
subject reference made from the same string.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

import phonenumbers

from ledger.errors import LedgerValueError

REF_SIZE = 32
# Below this the HMAC key is guessable enough to make references reversible by brute force.
MIN_SECRET_SIZE = 16
DEFAULT_REGION = "CN"
# Identifiers longer than any real account or ID number are refused rather than hashed.
MAX_IDENTIFIER_LENGTH = 256

_PHONE_LABEL = b"bindledger/phone/v1\x00"
_SUBJECT_LABEL = b"bindledger/subject/v1\x00"
_ACCOUNT_LABEL = b"bindledger/account/v1\x00"

# What a raw value squeezed into 32 bytes looks like, and an HMAC output essentially never
# does (for 32 uniformly random bytes): a run of this many zero bytes (padding, or a number
# written as a big-endian integer; chance about 7e-9), only printable ASCII besides zero bytes
# (text; about 2e-14), or fewer than this many distinct byte values (BCD digits, repeated
# patterns; random bytes have about 30, and fewer than 16 is far below 1e-15).
RAW_ZERO_RUN = 4
RAW_MIN_DISTINCT_BYTES = 16
_PRINTABLE = frozenset(range(0x20, 0x7F))


class InvalidPhoneNumberError(LedgerValueError):
    """The input is not a valid phone number."""


class InvalidIdentifierError(LedgerValueError):
    """The input is not a usable subject identifier."""


class WeakSecretError(LedgerValueError):
    """The reference secret is too short to keep references irreversible."""


def normalize_phone(raw: str, default_region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of `raw` (`+8613800138000`).

    Numbers without a leading `+` are read as national numbers of `default_region`.
    Raises InvalidPhoneNumberError with the reason when `raw` is not a valid number.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumberError("phone number is empty")
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumberError(f"not a phone number: {_describe_parse_error(exc)}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumberError(
            "not a valid phone number for its country code "
            f"+{parsed.country_code} (wrong length or unassigned range)"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_identifier(raw: str) -> str:
    """Return the canonical form of a subject identifier (NFKC, trimmed, upper case).

    Upper case makes `11010519491231002x` and `...002X` (a Chinese ID check digit) one subject.
    """
    if not isinstance(raw, str):
        raise InvalidIdentifierError("subject identifier must be a string")
    value = unicodedata.normalize("NFKC", raw).strip().upper()
    if not value:
        raise InvalidIdentifierError("subject identifier is empty")
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidIdentifierError(
            f"subject identifier is longer than {MAX_IDENTIFIER_LENGTH} characters"
        )
    return value


def check_secret(secret: bytes) -> bytes:
    """Return `secret` if it is long enough to key references; raise WeakSecretError if not."""
    if len(secret) < MIN_SECRET_SIZE:
        raise WeakSecretError(
            f"reference secret must be at least {MIN_SECRET_SIZE} bytes, got {len(secret)}"
        )
    return secret


def phone_ref(secret: bytes, raw_phone: str, default_region: str = DEFAULT_REGION) -> bytes:
    """The keyed reference of a phone number: HMAC-SHA256(secret, label || E.164)."""
    e164 = normalize_phone(raw_phone, default_region)
    return _keyed(secret, _PHONE_LABEL, e164)


def subject_ref(secret: bytes, raw_identifier: str) -> bytes:
    """The keyed reference of a subject (borrower) identifier."""
    return _keyed(secret, _SUBJECT_LABEL, normalize_identifier(raw_identifier))


def account_ref(secret: bytes, raw_account: str) -> bytes:
    """The keyed reference of a loan account number."""
    return _keyed(secret, _ACCOUNT_LABEL, normalize_identifier(raw_account))


def raw_value_reason(value: bytes) -> str | None:
    """Why `value` looks like a raw value rather than a keyed reference; None if it does not.

    Never quotes the value: it may be a raw phone or ID number.
    """
    if bytes(RAW_ZERO_RUN) in value:
        return f"it has a run of {RAW_ZERO_RUN} or more zero bytes (padding)"
    if all(byte in _PRINTABLE for byte in value if byte):
        return "it is printable ASCII text"
    distinct = len(set(value))
    if distinct < RAW_MIN_DISTINCT_BYTES:
        return (
            f"it has only {distinct} distinct byte values (an HMAC output has about 30; "
            f"fewer than {RAW_MIN_DISTINCT_BYTES} is refused)"
        )
    return None


def looks_like_raw_value(value: bytes) -> bool:
    """Whether `value` (a bytes32 member) looks like a raw identifier, not an HMAC output."""
    return raw_value_reason(value) is not None


def _keyed(secret: bytes, label: bytes, value: str) -> bytes:
    return hmac.new(check_secret(secret), label + value.encode(), hashlib.sha256).digest()


def _describe_parse_error(exc: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "contains no phone number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the prefix",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(exc.error_type, "unreadable")
