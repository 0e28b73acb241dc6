"""Keyed references: normalization first, then HMAC under the deployment secret."""

from __future__ import annotations

import hashlib

import phonenumbers
import pytest

from ledger.core.refs import (
    MAX_IDENTIFIER_LENGTH,
    MIN_SECRET_SIZE,
    REF_SIZE,
    InvalidIdentifierError,
    InvalidPhoneNumberError,
    WeakSecretError,
    _describe_parse_error,
    account_ref,
    check_secret,
    normalize_identifier,
    normalize_phone,
    phone_ref,
    subject_ref,
)

SECRET = b"a-test-secret-of-enough-length"


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "+86 138-0013-8000",
                                 "+8613800138000", "(+86) 13800138000", "0086 138 0013 8000"])
def test_every_spelling_of_a_number_normalizes_to_one_e164_form(raw: str) -> None:
    assert normalize_phone(raw) == "+8613800138000"
    assert phone_ref(SECRET, raw) == phone_ref(SECRET, "+8613800138000")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "empty"), ("   ", "empty"), ("abc", "contains no phone number"),
     ("12", "not a valid phone number"), ("+999 1234 5678", "unknown country code"),
     ("1380013800012345678901", "too long")],
)
def test_input_that_is_not_a_phone_number_is_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumberError, match=reason):
        normalize_phone(raw)


def test_numbers_of_other_countries_keep_their_country_code() -> None:
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"


def test_a_reference_is_neither_the_number_nor_its_plain_hash() -> None:
    ref = phone_ref(SECRET, "+8613800138000")
    assert ref != hashlib.sha256(b"+8613800138000").digest()
    assert b"13800138000" not in ref
    assert ref != phone_ref(b"another-secret-of-enough-length", "+8613800138000")


def test_phone_and_subject_references_are_domain_separated() -> None:
    assert phone_ref(SECRET, "+8613800138000") != subject_ref(SECRET, "+8613800138000")


def test_subject_identifiers_ignore_case_and_surrounding_space() -> None:
    assert subject_ref(SECRET, " 11010519491231002x ") == subject_ref(SECRET, "11010519491231002X")


def test_empty_or_overlong_identifiers_are_refused() -> None:
    with pytest.raises(InvalidIdentifierError, match="empty"):
        subject_ref(SECRET, "  ")
    with pytest.raises(InvalidIdentifierError, match="longer than"):
        subject_ref(SECRET, "1" * 257)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(WeakSecretError, match="at least 16 bytes"):
        phone_ref(b"short", "+8613800138000")


# -- the exact reasons, the edges of every limit, and the default region ----------------------

@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "phone number is empty"),
     ("abc", "not a phone number: contains no phone number"),
     ("+999 1234 5678", "not a phone number: unknown country code"),
     ("0086", "not a phone number: too short after the prefix"),
     ("+86 1", "not a phone number: too short"),
     ("+86 138 0013 80001234567", "not a phone number: too long"),
     ("12", ("not a valid phone number for its country code +86 (wrong length or unassigned "
            "range)"))],
)
def test_each_refused_phone_number_is_told_its_exact_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumberError) as refused:
        normalize_phone(raw)
    assert str(refused.value) == reason


def test_a_parse_failure_of_a_kind_phonenumbers_may_add_later_is_unreadable() -> None:
    # Every kind phonenumbers has today is named above; a new one still gets a reason.
    assert _describe_parse_error(phonenumbers.NumberParseException(99, "new kind")) == (
        "unreadable")


def test_a_national_number_is_read_in_the_default_region_given() -> None:
    london = "020 7946 0958"
    assert normalize_phone(london, default_region="GB") == "+442079460958"
    assert normalize_phone(london) == "+862079460958"  # DEFAULT_REGION, China
    assert phone_ref(SECRET, london, default_region="GB") == phone_ref(SECRET, "+442079460958")
    assert phone_ref(SECRET, london) == phone_ref(SECRET, "+862079460958")


def test_an_identifier_of_exactly_the_maximum_length_is_kept_and_one_more_is_refused() -> None:
    longest = "1" * MAX_IDENTIFIER_LENGTH
    assert normalize_identifier(longest) == longest
    assert len(account_ref(SECRET, longest)) == REF_SIZE
    with pytest.raises(InvalidIdentifierError) as refused:
        normalize_identifier(longest + "1")
    assert str(refused.value) == "subject identifier is longer than 256 characters"
    with pytest.raises(InvalidIdentifierError):
        account_ref(SECRET, longest + "1")


def test_the_length_limit_applies_to_the_normalized_identifier() -> None:
    # Surrounding space is trimmed before counting: 256 characters inside spaces are kept.
    assert normalize_identifier(" " + "a" * MAX_IDENTIFIER_LENGTH + " ") == (
        "A" * MAX_IDENTIFIER_LENGTH)


@pytest.mark.parametrize(("raw", "reason"), [
    (None, "subject identifier must be a string"),
    (1101051949, "subject identifier must be a string"),
    ("", "subject identifier is empty"),
    ("\u3000 ", "subject identifier is empty"),  # NFKC turns the ideographic space to a space
])
def test_an_identifier_that_is_not_a_nonempty_string_is_told_why(raw: object,
                                                                 reason: str) -> None:
    with pytest.raises(InvalidIdentifierError) as refused:
        normalize_identifier(raw)  # type: ignore[arg-type]
    assert str(refused.value) == reason


def test_a_secret_of_exactly_the_minimum_size_is_used_and_one_byte_less_is_refused() -> None:
    secret = b"s" * MIN_SECRET_SIZE
    assert check_secret(secret) is secret
    assert len(phone_ref(secret, "+8613800138000")) == REF_SIZE
    with pytest.raises(WeakSecretError) as refused:
        check_secret(secret[:-1])
    assert str(refused.value) == "reference secret must be at least 16 bytes, got 15"
    with pytest.raises(WeakSecretError):
        subject_ref(secret[:-1], "S-1")


def test_account_and_subject_references_are_domain_separated() -> None:
    assert account_ref(SECRET, "LOAN-0001") != subject_ref(SECRET, "LOAN-0001")
    assert account_ref(SECRET, " loan-0001 ") == account_ref(SECRET, "LOAN-0001")
