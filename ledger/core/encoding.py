"""Hex encoding used in every document BindLedger writes: 0x-prefixed lowercase hex, and
addresses in their EIP-55 checksummed form (docs/spec/records.md, "JSON encoding")."""

from __future__ import annotations

import functools
import re

from eth_utils.address import to_checksum_address

from ledger.errors import LedgerValueError

_HEX = re.compile(r"0x[0-9a-fA-F]*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class HexDecodeError(LedgerValueError):
    """A value that should be 0x-hex of a given length is not."""


class AddressDecodeError(HexDecodeError):
    """A value that should be an address is not 0x and 40 hex digits."""


class AddressChecksumError(AddressDecodeError):
    """An address in mixed case that is not its EIP-55 checksum (a typo, or an altered one)."""


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


def parse_address(value: object, what: str = "address") -> str:
    """The EIP-55 form of an address written as EIP-55 or all lowercase, 0x-prefixed.

    Any other mixed case fails its checksum, which is what a checksum is for: a mistyped
    address is refused, not read as some other account. Raises AddressDecodeError.
    """
    if not isinstance(value, str) or _ADDRESS.fullmatch(value) is None:
        raise AddressDecodeError(f"{what} must be an address, got {value!r:.60}")
    checksummed = _checksummed(value.lower())
    if value != checksummed and value != value.lower():
        raise AddressChecksumError(
            f"{what} fails its EIP-55 checksum: {value} (write {checksummed} or all lowercase)"
        )
    return checksummed


# A deployment serves a few platforms, whose addresses every record repeats: checksumming one
# (a keccak) is done once per address, not per record.
_checksummed = functools.lru_cache(maxsize=1024)(to_checksum_address)
