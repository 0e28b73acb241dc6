"""Hex encoding used in every document BindLedger writes: 0x-prefixed lowercase hex."""

from __future__ import annotations

import re

from ledger.errors import LedgerValueError

_HEX = re.compile(r"0x[0-9a-fA-F]*")


class HexDecodeError(LedgerValueError):
    """A value that should be 0x-hex of a given length is not."""


def to_hex(data: bytes) -> str:
    """Encode bytes as 0x-prefixed lowercase hex."""
    return "0x" + data.hex()


def from_hex(value: object, *, length: int | None = None, what: str = "value") -> bytes:
    """Decode 0x-prefixed hex; requires exactly `length` bytes when given.

    Raises HexDecodeError naming `what` and the expected shape.
    """
    if not isinstance(value, str) or _HEX.fullmatch(value) is None or len(value) % 2:
        raise HexDecodeError(f"{what} must be 0x-prefixed hex, got {value!r:.80}")
    data = bytes.fromhex(value[2:])
    if length is not None and len(data) != length:
        raise HexDecodeError(f"{what} must be {length} bytes, got {len(data)}")
    return data
