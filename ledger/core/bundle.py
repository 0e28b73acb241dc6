"""Proof bundles: a record, its inclusion proof, the anchored head and where it is on chain.

The document format is `bindledger.proof/1`. Decoding is strict: a wrong format tag, a
missing or unknown member, or a value of the wrong shape each raise their own error, so a
verifier can say exactly why a document is unreadable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.core.encoding import (
    AddressChecksumError,
    HexDecodeError,
    from_hex,
    parse_address,
    to_hex,
)
from ledger.core.jsonlimits import JsonTooDeepError, check_json_depth
from ledger.core.records import HASH_SIZE, RecordDecodeError, SignedRecord
from ledger.errors import LedgerValueError

BUNDLE_FORMAT = "bindledger.proof/1"
# A log of 2^64 leaves needs at most 64 proof nodes; anything longer is not a proof.
MAX_PATH_LENGTH = 64
# Bundles are small (a record and ~40 hashes); refuse to parse megabytes of garbage.
MAX_BUNDLE_BYTES = 64 * 1024


class BundleDecodeError(LedgerValueError):
    """The document is not a readable proof bundle."""


class BadFormatError(BundleDecodeError):
    """The `format` member is missing or names another format or version."""


class MissingFieldError(BundleDecodeError):
    """A required member is absent."""


class FieldValueError(BundleDecodeError):
    """A member is present but has the wrong type or shape."""


@dataclass(frozen=True)
class AnchorRef:
    """Where a head was anchored."""

    chain_id: int
    contract: str
    platform: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    block_time: int

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "contract": self.contract,
            "platform": self.platform,
            "txHash": to_hex(self.tx_hash),
            "blockNumber": self.block_number,
            "blockHash": to_hex(self.block_hash),
            "blockTime": self.block_time,
        }


@dataclass(frozen=True)
class ProofBundle:
    record: SignedRecord
    record_hash: bytes
    leaf_index: int
    tree_size: int
    inclusion_path: list[bytes]
    head_size: int
    head_root: bytes
    anchor: AnchorRef

    def to_json(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "record": self.record.to_json(),
            "recordHash": to_hex(self.record_hash),
            "leafIndex": self.leaf_index,
            "treeSize": self.tree_size,
            "inclusionPath": [to_hex(node) for node in self.inclusion_path],
            "head": {"treeSize": self.head_size, "rootHash": to_hex(self.head_root)},
            "anchor": self.anchor.to_json(),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

    @classmethod
    def loads(cls, text: str | bytes) -> ProofBundle:
        """Parse a bundle document; raises a BundleDecodeError subclass saying why not."""
        if len(text) > MAX_BUNDLE_BYTES:
            raise BundleDecodeError(f"document is larger than {MAX_BUNDLE_BYTES} bytes")
        raw = text.encode() if isinstance(text, str) else text
        try:
            check_json_depth(raw)
        except JsonTooDeepError as exc:
            raise BundleDecodeError(str(exc)) from None
        try:
            doc = parse_json(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleDecodeError(f"not JSON: {exc}") from None
        return cls.from_json(doc)

    @classmethod
    def from_json(cls, doc: object) -> ProofBundle:
        if not isinstance(doc, Mapping):
            raise BundleDecodeError("a proof bundle must be a JSON object")
        if doc.get("format") != BUNDLE_FORMAT:
            raise BadFormatError(f"format must be {BUNDLE_FORMAT!r}, got {doc.get('format')!r:.60}")
        try:
            record = SignedRecord.from_json(_member(doc, "record", Mapping))
        except RecordDecodeError as exc:
            raise FieldValueError(f"record: {exc}") from None
        path = _member(doc, "inclusionPath", list)
        if len(path) > MAX_PATH_LENGTH:
            raise FieldValueError(f"inclusionPath has more than {MAX_PATH_LENGTH} nodes")
        head = _member(doc, "head", Mapping)
        anchor = _member(doc, "anchor", Mapping)
        _refuse_unknown(doc, _BUNDLE_MEMBERS, "")
        _refuse_unknown(head, _HEAD_MEMBERS, "head.")
        _refuse_unknown(anchor, _ANCHOR_MEMBERS, "anchor.")
        return cls(
            record=record,
            record_hash=_hash(doc, "recordHash"),
            leaf_index=_uint(doc, "leafIndex"),
            tree_size=_uint(doc, "treeSize"),
            inclusion_path=[_hex32(node, f"inclusionPath[{i}]") for i, node in enumerate(path)],
            head_size=_uint(head, "treeSize", "head."),
            head_root=_hash(head, "rootHash", "head."),
            anchor=AnchorRef(
                chain_id=_uint(anchor, "chainId", "anchor."),
                contract=_address(anchor, "contract", "anchor."),
                platform=_address(anchor, "platform", "anchor."),
                tx_hash=_hash(anchor, "txHash", "anchor."),
                block_number=_uint(anchor, "blockNumber", "anchor."),
                block_hash=_hash(anchor, "blockHash", "anchor."),
                block_time=_uint(anchor, "blockTime", "anchor."),
            ),
        )


_BUNDLE_MEMBERS = frozenset(
    {"format", "record", "recordHash", "leafIndex", "treeSize", "inclusionPath", "head", "anchor"}
)
_HEAD_MEMBERS = frozenset({"treeSize", "rootHash"})
_ANCHOR_MEMBERS = frozenset(
    {"chainId", "contract", "platform", "txHash", "blockNumber", "blockHash", "blockTime"}
)


def _refuse_unknown(doc: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
    # Evidence carries nothing unchecked: an extra member could smuggle claims past a reader.
    if unknown := set(doc) - allowed:
        raise FieldValueError(f"unknown member(s) {sorted(prefix + k for k in unknown)}")


def _member(doc: Mapping[str, Any], name: str, kind: type, prefix: str = "") -> Any:
    if name not in doc:
        raise MissingFieldError(f"missing member {prefix}{name}")
    value = doc[name]
    if not isinstance(value, kind):
        raise FieldValueError(f"{prefix}{name} must be a JSON {_kind_name(kind)}")
    return value


def _uint(doc: Mapping[str, Any], name: str, prefix: str = "") -> int:
    value = _member(doc, name, int, prefix)
    if isinstance(value, bool) or value < 0 or value >= 1 << 64:
        raise FieldValueError(f"{prefix}{name} must be an integer in [0, 2^64)")
    return int(value)


def _hash(doc: Mapping[str, Any], name: str, prefix: str = "") -> bytes:
    return _hex32(_member(doc, name, str, prefix), prefix + name)


def _hex32(value: object, what: str) -> bytes:
    try:
        return from_hex(value, length=HASH_SIZE, what=what)
    except HexDecodeError as exc:
        raise FieldValueError(str(exc)) from None


def _address(doc: Mapping[str, Any], name: str, prefix: str = "") -> str:
    try:
        return parse_address(_member(doc, name, str, prefix), prefix + name)
    except AddressChecksumError as exc:
        raise FieldValueError(str(exc)) from None
    except HexDecodeError:
        raise FieldValueError(f"{prefix}{name} must be an Ethereum address") from None


def parse_json(raw: bytes) -> Any:
    """Parse a document, refusing an object that names a member twice: readers differ on
    which of the two values counts, and evidence must read the same to every verifier."""
    return json.loads(raw, object_pairs_hook=_unique_members)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        names = [name for name, _ in pairs]
        twice = sorted({name for name in names if names.count(name) > 1})
        raise FieldValueError(f"member(s) {twice} given more than once")
    return doc


def _kind_name(kind: type) -> str:
    return {Mapping: "object", list: "array", int: "integer", str: "string"}.get(
        kind, kind.__name__
    )
