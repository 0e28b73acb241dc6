"""Checking one entry: it is a record of the audited platform, in canonical form, signed by it.

A full audit checks every record of a log, so this path is built for speed: an entry is matched
against one regular expression per record type, made once from the record schemas
(ledger.core.records), which accepts the canonical JSON the ledger stores and nothing else,
and its members go straight from the matched text to their EIP-712 encodings; the signer is
recovered with coincurve. Anything this path does not accept is parsed again the ordinary way
(SignedRecord.from_json) to say why; tests check that both paths hash every record type alike.
Canonical form matters: the record hash does not cover spelling (hex letter case, spacing,
key order), and a changed byte anywhere in an entry must not go unnoticed, so an entry must be
exactly the compact, key-sorted JSON the ledger stores, with lowercase hex.
"""

from __future__ import annotations

import dataclasses
import json
import re
from binascii import unhexlify
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from ledger.core.records import (
    MAX_BYTES_MEMBER,
    MAX_INSTALLMENTS,
    RECORD_TYPES,
    SIGNATURE_SIZE,
    Domain,
    Record,
    RecordDecodeError,
    SignatureError,
    SignedRecord,
    signer_address,
)
from ledger.errors import LedgerValueError

_CANONICAL_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


class EntryError(LedgerValueError):
    """The entry is not a readable record of the platform in canonical form."""


class _Refused(Exception):
    """The fast path does not accept a value; the slow path says why."""


@dataclass(frozen=True)
class EntryFacts:
    """What the rest of the audit needs of a checked record."""

    record_hash: bytes
    subject: bytes
    prev: bytes
    type_name: str
    extends_chain: bool
    signature_error: str | None = None  # why the platform's signature does not hold, if not


# The fast path reads an entry with one regular expression per record type that matches the
# canonical form and nothing else: keys in sorted order, no whitespace, lowercase hex of the
# right length, integers without sign or leading zeros, enum names. Each group is one member's
# text, which a decoder turns into its 32-byte EIP-712 encoding.
_Decode = Callable[[bytes], bytes]
_UINT = rb"(?:0|[1-9][0-9]*)"


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _uint(bits: int) -> _Decode:
    bound = 1 << bits

    def decode(text: bytes) -> bytes:
        value = int(text)
        if value >= bound:
            raise _Refused
        return _word(value)

    return decode


def _uint_array(bits: int) -> _Decode:
    element = _uint(bits)

    def decode(text: bytes) -> bytes:
        values = text.split(b",") if text else []
        if len(values) > MAX_INSTALLMENTS:
            raise _Refused
        return bytes(keccak(b"".join([element(v) for v in values])))

    return decode


def _dynamic_bytes(text: bytes) -> bytes:
    if len(text) > 2 * MAX_BYTES_MEMBER:
        raise _Refused
    return bytes(keccak(unhexlify(text)))


def _address(text: bytes) -> bytes:
    """An address member (beyond `platform`), written checksummed as records are stored."""
    if to_checksum_address(text.decode()) != text.decode():
        raise ValueError("an address not in its checksummed form")
    return bytes(12) + unhexlify(text[2:])


def _member(sol: str, enum: type[IntEnum] | None) -> tuple[bytes, _Decode]:
    """The pattern of a member's canonical JSON value (one group) and its decoder."""
    if enum is not None:
        words = {name.encode(): _word(int(m)) for name, m in enum.__members__.items()}
        names = b"|".join(re.escape(n) for n in words)
        return b'"(' + names + b')"', words.__getitem__
    if sol == "bytes32":
        return b'"0x([0-9a-f]{64})"', unhexlify
    if sol == "bytes":
        return b'"0x((?:[0-9a-f]{2})*)"', _dynamic_bytes
    if sol == "bool":
        return b"(true|false)", {b"true": _word(1), b"false": _word(0)}.__getitem__
    if sol.startswith("uint") and sol.endswith("[]"):
        return rb"\[((?:" + _UINT + rb"(?:," + _UINT + rb")*)?)\]", _uint_array(int(sol[4:-2]))
    if sol.startswith("uint"):
        return b"(" + _UINT + b")", _uint(int(sol[4:]))
    if sol == "address":
        return b'"(0x[0-9a-fA-F]{40})"', _address
    raise AssertionError(f"no audit decoder for Solidity type {sol}")  # a schema change


@dataclass(frozen=True)
class _Schema:
    type_hash: bytes
    # Decoders of the groups, in key order, and where each member's word goes in EIP-712 order.
    decoders: tuple[_Decode, ...]
    positions: tuple[int, ...]
    extends_chain: bool
    pattern_parts: tuple[tuple[str, bytes], ...]  # (key, value pattern), sorted by key


def _schema(kind: type[Record]) -> _Schema:
    fields = dataclasses.fields(kind)
    names = [name for name, _ in kind.members()]
    assert names[0] == "platform" and fields[0].metadata["sol"] == "address"
    members = {name: _member(f.metadata["sol"], f.metadata["enum"])
               for name, f in zip(names[1:], fields[1:], strict=True)}
    members["signature"] = (b'"0x([0-9a-f]{' + str(2 * SIGNATURE_SIZE).encode() + b'})"',
                            unhexlify)
    keys = sorted(members)
    order = {name: i for i, name in enumerate(names[1:])}
    return _Schema(
        kind.type_hash(),
        tuple(members[k][1] for k in keys),
        tuple(order.get(k, -1) for k in keys),  # -1: the signature, no member of the struct
        kind.EXTENDS_CHAIN,
        tuple((k, members[k][0]) for k in keys),
    )


_SCHEMAS = {name: _schema(kind) for name, kind in RECORD_TYPES.items()}
_TYPE_KEY = b'"type":"'


def _pattern(type_name: str, schema: _Schema, platform: str) -> re.Pattern[bytes]:
    """The canonical JSON of a record of this type of `platform`: "type" sorts last, "platform"
    is the exact checksummed address, and everything else is a group of `_member`."""
    parts = [(k, v) for k, v in schema.pattern_parts]
    parts.append(("platform", b'"' + re.escape(platform.encode()) + b'"'))
    parts.append(("type", b'"' + re.escape(type_name.encode()) + b'"'))
    parts.sort()
    assert parts[-1][0] == "type"
    body = b",".join(b'"' + k.encode() + b'":' + v for k, v in parts)
    return re.compile(b"{" + body + b"}")


class EntryChecker:
    """Checks entries of one platform's log under one deployment's EIP-712 domain."""

    def __init__(self, domain: Domain, platform: str) -> None:
        self.domain = domain
        self.platform = platform
        self._prefix = b"\x19\x01" + domain.separator
        self._platform_word = bytes(12) + bytes.fromhex(platform[2:])
        self._platform_bytes = bytes.fromhex(platform[2:])
        self._patterns = {name.encode(): (_pattern(name, schema, platform), schema)
                          for name, schema in _SCHEMAS.items()}

    def check(self, entry: bytes) -> EntryFacts:
        """The record's facts, with what is wrong with its signature if anything; raises
        EntryError naming what is wrong when the entry is no record of the platform."""
        try:
            type_name = entry[entry.rindex(_TYPE_KEY) + len(_TYPE_KEY) : -2]
            pattern, schema = self._patterns[type_name]
            match = pattern.fullmatch(entry)
            if match is None:
                raise _Refused
            words = [b""] * (len(schema.decoders) - 1)
            signature = b""
            for position, decode, text in zip(schema.positions, schema.decoders,
                                              match.groups(), strict=True):
                if position < 0:
                    signature = decode(text)
                else:
                    words[position] = decode(text)
        except Exception:  # noqa: BLE001 - anything the fast path refuses is explained below
            raise EntryError(self._explain(entry)) from None
        struct = keccak(b"".join([schema.type_hash, self._platform_word, *words]))
        record_hash = bytes(keccak(self._prefix + struct))
        problem = None
        try:
            signer = signer_address(record_hash, signature)
            if signer != self._platform_bytes:
                problem = f"signed by 0x{signer.hex()}, not by the platform {self.platform}"
        except SignatureError as exc:
            problem = str(exc)
        # words[0] and words[1] are `subject` and `prev`, the members after `platform`.
        return EntryFacts(record_hash, words[0], words[1], type_name.decode(),
                          schema.extends_chain, problem)

    def _explain(self, entry: bytes) -> str:
        """Why the fast path refused `entry`, in the ordinary parser's words where it has any."""
        try:
            doc = json.loads(entry)
        except (ValueError, RecursionError) as exc:
            return f"not JSON: {exc}"
        try:
            signed = SignedRecord.from_json(doc)
        except RecordDecodeError as exc:
            return f"not a record: {exc}"
        if signed.record.platform != self.platform:
            return f"a record of platform {signed.record.platform}, not of {self.platform}"
        if _CANONICAL_JSON.encode(signed.to_json()).encode() == entry:
            return "a value is out of range"  # e.g. a uint8 of 256, which from_json lets by
        return "not in canonical form (compact JSON, sorted keys, lowercase hex)"
