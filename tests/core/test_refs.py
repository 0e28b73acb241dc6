"""Keyed references: normalization first, then HMAC under the deployment secret."""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.refs import (
    InvalidIdentifierError,
    InvalidPhoneNumberError,
    WeakSecretError,
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
