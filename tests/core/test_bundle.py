"""Proof bundle documents: strict decoding, each failure with its own error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.core.bundle import (
    MAX_BUNDLE_BYTES,
    MAX_PATH_LENGTH,
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



# -- exact reasons, and every limit at its edge and one past it --------------------------------

def refusal_of(doc: object) -> str:
    with pytest.raises(BundleDecodeError) as refused:
        ProofBundle.from_json(doc)
    return str(refused.value)


@pytest.mark.parametrize("member", ["recordHash", "leafIndex", "treeSize", "inclusionPath",
                                    "head", "anchor", "head.treeSize", "head.rootHash",
                                    "anchor.chainId", "anchor.contract", "anchor.platform",
                                    "anchor.txHash", "anchor.blockNumber", "anchor.blockHash",
                                    "anchor.blockTime"])
def test_a_missing_member_is_named_by_its_full_path(member: str) -> None:
    assert refusal_of(changed(member, KeyError)) == f"missing member {member}"


@pytest.mark.parametrize(("member", "value", "reason"), [
    ("leafIndex", "0", "leafIndex must be a JSON integer"),
    ("head.treeSize", "2", "head.treeSize must be a JSON integer"),
    ("head.treeSize", 2**64, "head.treeSize must be an integer in [0, 2^64)"),
    ("head.rootHash", 1, "head.rootHash must be a JSON string"),
    ("head.rootHash", "0x12", "head.rootHash must be 32 bytes, got 1"),
    ("anchor.chainId", -1, "anchor.chainId must be an integer in [0, 2^64)"),
    ("anchor.contract", 1, "anchor.contract must be a JSON string"),
    ("anchor.platform", "0x1234", "anchor.platform must be an Ethereum address"),
    ("anchor.txHash", "0x" + "cc" * 31, "anchor.txHash must be 32 bytes, got 31"),
    ("anchor.blockNumber", True, "anchor.blockNumber must be an integer in [0, 2^64)"),
    ("anchor.blockHash", "dd" * 32, "anchor.blockHash must be 0x-prefixed hex, got '"
                                    + "dd" * 32 + "'"),
    ("anchor.blockTime", 1.0, "anchor.blockTime must be a JSON integer"),
    ("recordHash", None, "recordHash must be a JSON string"),
    ("inclusionPath", {}, "inclusionPath must be a JSON array"),
    ("head", "x", "head must be a JSON object"),
    ("anchor", [], "anchor must be a JSON object"),
    ("record", [], "record must be a JSON object"),
])
def test_a_member_of_the_wrong_shape_is_told_its_exact_reason(member: str, value: Any,
                                                              reason: str) -> None:
    assert refusal_of(changed(member, value)) == reason


@pytest.mark.parametrize(("member", "reason"), [
    ("note", "unknown member(s) ['note']"),
    ("head.note", "unknown member(s) ['head.note']"),
    ("anchor.note", "unknown member(s) ['anchor.note']"),
])
def test_an_unknown_member_is_named_by_its_full_path(member: str, reason: str) -> None:
    assert refusal_of(changed(member, "trust me")) == reason


def test_a_value_that_is_not_an_object_is_not_a_bundle() -> None:
    assert refusal_of([VALID]) == "a proof bundle must be a JSON object"


def test_a_record_that_does_not_decode_is_named_with_its_reason() -> None:
    assert refusal_of(changed("record.factors", 256)) == (
        "record: Binding.factors must be an integer in [0, 2^8), got 256")


def test_a_path_of_exactly_the_maximum_length_is_read_and_one_more_node_is_refused() -> None:
    longest = ["0x" + "aa" * 32] * MAX_PATH_LENGTH
    assert len(ProofBundle.from_json(changed("inclusionPath", longest)).inclusion_path) == 64
    assert refusal_of(changed("inclusionPath", [*longest, longest[0]])) == (
        "inclusionPath has more than 64 nodes")


def test_a_document_of_exactly_the_maximum_size_is_parsed_and_one_byte_more_is_not() -> None:
    text = json.dumps(VALID).encode()
    padded = text + b" " * (MAX_BUNDLE_BYTES - len(text))  # JSON allows trailing space
    assert ProofBundle.loads(padded) == ProofBundle.from_json(VALID)
    with pytest.raises(BundleDecodeError) as refused:
        ProofBundle.loads(padded + b" ")
    assert str(refused.value) == "document is larger than 65536 bytes"


def test_text_that_is_not_json_is_told_where_the_parser_stopped() -> None:
    with pytest.raises(BundleDecodeError) as refused:
        ProofBundle.loads(b"{nope")
    assert str(refused.value) == (
        "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")


def test_a_bundle_is_written_as_indented_json_ending_in_a_newline() -> None:
    text = ProofBundle.from_json(VALID).dumps()
    assert text == json.dumps(VALID, indent=2) + "\n"


def test_an_anchor_contract_with_a_wrong_checksum_is_named_by_its_full_path() -> None:
    right = VALID["anchor"]["contract"]
    wrong = right.swapcase().replace("0X", "0x")
    with pytest.raises(BundleDecodeError) as refused:
        ProofBundle.from_json(changed("anchor.contract", wrong))
    assert str(refused.value) == (
        f"anchor.contract fails its EIP-55 checksum: {wrong} (write {right} or all lowercase)")


def test_a_member_named_twice_is_the_only_one_named() -> None:
    text = json.dumps(VALID)[:-1] + ', "leafIndex": 1}'
    with pytest.raises(FieldValueError) as refused:
        ProofBundle.loads(text)
    assert str(refused.value) == "member(s) ['leafIndex'] given more than once"
