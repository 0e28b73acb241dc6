"""Proof bundle documents: strict decoding, each failure with its own error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.core.bundle import (
    MAX_BUNDLE_BYTES,
    BadFormatError,
    BundleDecodeError,
    FieldValueError,
    MissingFieldError,
    ProofBundle,
)
from tests.core.test_records import VECTORS

VALID: dict[str, Any] = {
    "format": "bindledger.proof/1",
    "record": {**VECTORS["records"][0]["record"], "signature": VECTORS["records"][0]["signature"]},
    "recordHash": VECTORS["records"][0]["recordHash"],
    "leafIndex": 0,
    "treeSize": 2,
    "inclusionPath": ["0x" + "aa" * 32],
    "head": {"treeSize": 2, "rootHash": "0x" + "bb" * 32},
    "anchor": {
        "chainId": 31337,
        "contract": VECTORS["domain"]["verifyingContract"],
        "platform": VECTORS["records"][0]["record"]["platform"],
        "txHash": "0x" + "cc" * 32,
        "blockNumber": 7,
        "blockHash": "0x" + "dd" * 32,
        "blockTime": 1767225700,
    },
}


def changed(path: str, value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(VALID))
    *parents, last = path.split(".")
    target = doc
    for name in parents:
        target = target[name]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


def test_a_bundle_survives_a_round_trip_unchanged() -> None:
    bundle = ProofBundle.from_json(VALID)
    assert json.loads(bundle.dumps()) == VALID
    assert ProofBundle.loads(bundle.dumps()) == bundle


@pytest.mark.parametrize("fmt", [None, "bindledger.proof/2", "bindledger.timeline/1", 1])
def test_another_format_or_version_is_refused(fmt: Any) -> None:
    with pytest.raises(BadFormatError, match="format must be 'bindledger.proof/1'"):
        ProofBundle.from_json(changed("format", fmt))


@pytest.mark.parametrize("member", ["record", "recordHash", "leafIndex", "treeSize",
                                    "inclusionPath", "head", "head.rootHash", "anchor",
                                    "anchor.txHash", "anchor.blockTime"])
def test_a_missing_member_is_named(member: str) -> None:
    with pytest.raises(MissingFieldError, match=member.split(".")[-1]):
        ProofBundle.from_json(changed(member, KeyError))


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("recordHash", "0x1234", "must be 32 bytes"),
        ("recordHash", "AA" * 32, "0x-prefixed hex"),
        ("leafIndex", -1, "integer in"),
        ("leafIndex", 2**64, "integer in"),
        ("leafIndex", True, "integer in"),
        ("treeSize", "2", "must be a JSON integer"),
        ("inclusionPath", "0x00", "must be a JSON array"),
        ("inclusionPath", ["0x" + "aa" * 32] * 65, "more than 64 nodes"),
        ("inclusionPath", ["0x" + "aa" * 31], r"inclusionPath\[0\] must be 32 bytes"),
        ("head", [], "must be a JSON object"),
        ("anchor.contract", "0x1234", "must be an Ethereum address"),
        ("anchor.chainId", 1.5, "must be a JSON integer"),
        ("record", "text", "must be a JSON object"),
        ("record.signature", "0x00", "signature must be 65 bytes"),
    ],
)
def test_a_member_of_the_wrong_shape_is_refused_with_the_reason(member: str, value: Any,
                                                                message: str) -> None:
    with pytest.raises(FieldValueError, match=message):
        ProofBundle.from_json(changed(member, value))


@pytest.mark.parametrize("text", [b"", b"not json", b"[1, 2]", b"42", b"\xff\xfe", b"null"])
def test_text_that_is_not_a_bundle_object_is_refused(text: bytes) -> None:
    with pytest.raises(BundleDecodeError):
        ProofBundle.loads(text)


def test_an_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(BundleDecodeError, match="larger than"):
        ProofBundle.loads(b" " * (MAX_BUNDLE_BYTES + 1))


@pytest.mark.parametrize("member", ["note", "head.note", "anchor.note"])
def test_an_unknown_member_is_refused(member: str) -> None:
    with pytest.raises(FieldValueError, match="unknown member"):
        ProofBundle.from_json(changed(member, "trust me"))


def test_deeply_nested_json_is_refused_before_parsing() -> None:
    with pytest.raises(BundleDecodeError, match="nests deeper than"):
        ProofBundle.loads(b"[" * 10_000 + b"]" * 10_000)


def test_a_record_type_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(FieldValueError, match="unknown record type"):
        ProofBundle.from_json(changed("record.type", []))


def test_a_member_named_twice_is_refused() -> None:
    # Two readers could take different values of a repeated member (the first, the last):
    # evidence must read the same to every verifier.
    text = json.dumps(VALID)[:-1] + ', "leafIndex": 1}'
    with pytest.raises(FieldValueError, match="leafIndex.*more than once"):
        ProofBundle.loads(text)


def test_an_anchor_address_with_a_wrong_checksum_is_refused() -> None:
    wrong = VALID["anchor"]["contract"].swapcase().replace("0X", "0x")
    with pytest.raises(FieldValueError, match="EIP-55 checksum"):
        ProofBundle.from_json(changed("anchor.contract", wrong))

