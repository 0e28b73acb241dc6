"""Hex in documents: 0x-prefixed, even length, and the exact length when one is required."""

from __future__ import annotations

import pytest

from ledger.core.encoding import AddressDecodeError, HexDecodeError, from_hex, parse_address, to_hex


def test_bytes_round_trip_through_lowercase_hex() -> None:
    assert to_hex(b"\xab\x01") == "0xab01"
    assert from_hex("0xAB01") == b"\xab\x01"
    assert from_hex("0x") == b""


@pytest.mark.parametrize(("value", "reason"), [
    ("ab01", "value must be 0x-prefixed hex, got 'ab01'"),
    ("0xabc", "value must be 0x-prefixed hex, got '0xabc'"),
    ("0xzz", "value must be 0x-prefixed hex, got '0xzz'"),
    (1, "value must be 0x-prefixed hex, got 1"),
])
def test_text_that_is_not_0x_hex_is_refused_naming_the_value(value: object, reason: str) -> None:
    with pytest.raises(HexDecodeError) as refused:
        from_hex(value)
    assert str(refused.value) == reason


def test_a_required_length_is_exact_and_the_member_is_named() -> None:
    assert from_hex("0x" + "00" * 32, length=32, what="root") == bytes(32)
    with pytest.raises(HexDecodeError) as refused:
        from_hex("0x" + "00" * 33, length=32, what="root")
    assert str(refused.value) == "root must be 32 bytes, got 33"


def test_an_address_that_is_not_one_is_named_address_by_default() -> None:
    with pytest.raises(AddressDecodeError) as refused:
        parse_address(7)
    assert str(refused.value) == "address must be an address, got 7"
