"""Checking one entry: it is a record of the audited platform, in canonical form, signed by it.

A full audit checks every record of a log, so this path is built for speed: the EIP-712 hash
is computed straight from the parsed JSON with per-type encoders made once from the record
schemas (ledger.core.records), instead of building a Record object first; the signer is
recovered with coincurve. Anything this path does not accept is parsed again the ordinary way
(SignedRecord.from_json) to say why; tests check that both paths hash every record type alike.
Canonical form matters: the record hash does not cover spelling (hex letter case, spacing,
key order), and a changed byte anywhere in an entry must not go unnoticed, so an entry must be
exactly the compact, key-sorted JSON the ledger stores, with lowercase hex.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_hash.auto import keccak

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
_HASH_HEX = 2 + 64
_SIGNATURE_HEX = 2 + 2 * SIGNATURE_SIZE


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


_Encode = Callable[[Any], bytes]


def _hex(value: Any, length: int | None) -> bytes:
    if type(value) is not str or value[:2] != "0x" or not value.islower():
        raise _Refused
    data = bytes.fromhex(value[2:])  # ValueError on anything but pairs of hex digits
    if (length is not None and len(data) != length) or len(value) != 2 + 2 * len(data):
        raise _Refused  # fromhex skips spaces: the length check refuses them
    return data


def _bytes32(value: Any) -> bytes:
    if type(value) is not str or len(value) != _HASH_HEX:
        raise _Refused
    return _hex(value, 32)


def _dynamic_bytes(value: Any) -> bytes:
    data = _hex(value, None)
    if len(data) > MAX_BYTES_MEMBER:
        raise _Refused
    return bytes(keccak(data))


def _uint(bits: int) -> _Encode:
    bound = 1 << bits

    def encode(value: Any) -> bytes:
        if type(value) is not int or not 0 <= value < bound:
            raise _Refused
        return value.to_bytes(32, "big")

    return encode


def _bool(value: Any) -> bytes:
    if type(value) is not bool:
        raise _Refused
    return int(value).to_bytes(32, "big")


def _enum(enum: type[IntEnum]) -> _Encode:
    encoded = {name: int(member).to_bytes(32, "big") for name, member in enum.__members__.items()}

    def encode(value: Any) -> bytes:
        if type(value) is not str:
            raise _Refused
        return encoded[value]  # KeyError for another name

    return encode


def _array(element: _Encode) -> _Encode:
    def encode(values: Any) -> bytes:
        if type(values) is not list or len(values) > MAX_INSTALLMENTS:
            raise _Refused
        return bytes(keccak(b"".join([element(v) for v in values])))

    return encode


def _encoder(sol: str, enum: type[IntEnum] | None) -> _Encode:
    if enum is not None:
        return _enum(enum) if not sol.endswith("[]") else _array(_enum(enum))
    if sol == "bytes32":
        return _bytes32
    if sol == "bytes":
        return _dynamic_bytes
    if sol == "bool":
        return _bool
    if sol.startswith("uint") and sol.endswith("[]"):
        return _array(_uint(int(sol[4:-2])))
    if sol.startswith("uint"):
        return _uint(int(sol[4:]))
    raise AssertionError(f"no audit encoder for Solidity type {sol}")  # a schema change


@dataclass(frozen=True)
class _Schema:
    type_hash: bytes
    members: tuple[tuple[str, _Encode], ...]  # every member after `platform`, in EIP-712 order
    keys: frozenset[str]
    extends_chain: bool


def _schema(kind: type[Record]) -> _Schema:
    fields = dataclasses.fields(kind)
    names = [name for name, _ in kind.members()]
    assert names[0] == "platform" and fields[0].metadata["sol"] == "address"
    members = tuple(
        (name, _encoder(f.metadata["sol"], f.metadata["enum"]))
        for name, f in zip(names[1:], fields[1:], strict=True)
    )
    return _Schema(kind.type_hash(), members, frozenset([*names, "type", "signature"]),
                   kind.EXTENDS_CHAIN)


_SCHEMAS = {name: _schema(kind) for name, kind in RECORD_TYPES.items()}


class EntryChecker:
    """Checks entries of one platform's log under one deployment's EIP-712 domain."""

    def __init__(self, domain: Domain, platform: str) -> None:
        self.domain = domain
        self.platform = platform
        self._prefix = b"\x19\x01" + domain.separator
        self._platform_word = bytes(12) + bytes.fromhex(platform[2:])
        self._platform_bytes = bytes.fromhex(platform[2:])

    def check(self, entry: bytes) -> EntryFacts:
        """The record's facts, with what is wrong with its signature if anything; raises
        EntryError naming what is wrong when the entry is no record of the platform."""
        try:
            doc = json.loads(entry)
            schema = _SCHEMAS[doc["type"]]
            if doc.keys() != schema.keys or doc["platform"] != self.platform:
                raise _Refused
            words = [schema.type_hash, self._platform_word]
            words += [encode(doc[name]) for name, encode in schema.members]
            signature = doc["signature"]
            if type(signature) is not str or len(signature) != _SIGNATURE_HEX:
                raise _Refused
            signature_bytes = _hex(signature, SIGNATURE_SIZE)
            if _CANONICAL_JSON.encode(doc).encode() != entry:
                raise _Refused
        except Exception:  # noqa: BLE001 - anything the fast path refuses is explained below
            raise EntryError(self._explain(entry)) from None
        record_hash = bytes(keccak(self._prefix + keccak(b"".join(words))))
        problem = None
        try:
            signer = signer_address(record_hash, signature_bytes)
            if signer != self._platform_bytes:
                problem = f"signed by 0x{signer.hex()}, not by the platform {self.platform}"
        except SignatureError as exc:
            problem = str(exc)
        # words[2] and words[3] are `subject` and `prev`, the members after `platform`.
        return EntryFacts(record_hash, words[2], words[3], doc["type"], schema.extends_chain,
                          problem)

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
        return "not in canonical form (compact JSON, sorted keys, lowercase hex)"
