"""POST /v1/verify: anyone may check a proof bundle against the server's chain.

A readable bundle always gets a 200 verdict naming each check; a document that is not a
readable bundle gets a 422 saying why, never a 5xx.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core.bundle import MAX_BUNDLE_BYTES
from ledger.core.records import RECORD_TYPES
from tests.api.conftest import Shared, chain_independent
from tests.support.anvil import free_port
from tests.support.api import (
    client,
    json_values,
    ledger_error,
    post_json_bytes,
    validation_errors,
)

CHECKS = ["record hash", "signature", "inclusion", "head on chain", "anchor transaction"]


@pytest.fixture
def public(shared: Shared) -> Iterator[httpx.Client]:
    """A client without an API key: verification is public."""
    with client(shared.url, None) as c:
        yield c


REMOVE = object()


def changed(bundle: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `bundle` with the member at dotted `path` set to `value`, or removed
    when `value` is REMOVE."""
    doc = copy.deepcopy(bundle)
    *parents, last = path.split(".")
    target = doc
    for name in parents:
        target = target[name]
    if value is REMOVE:
        del target[last]
    else:
        target[last] = value
    return doc


def test_a_genuine_bundle_verifies_with_every_check_passed(shared: Shared,
                                                           public: httpx.Client) -> None:
    response = public.post("/v1/verify", json=shared.bundle)

    assert response.status_code == 200
    verdict = response.json()
    assert verdict["verified"] is True
    assert verdict["reason"] == "all checks passed"
    assert [(c["check"], c["outcome"]) for c in verdict["checks"]] == [
        (name, "passed") for name in CHECKS]


def test_a_readable_but_false_bundle_gets_a_200_verdict_naming_what_did_not_match(
        shared: Shared, public: httpx.Client) -> None:
    forged = changed(shared.bundle, "record.timestamp", shared.bundle["record"]["timestamp"] + 1)

    response = public.post("/v1/verify", json=forged)

    assert response.status_code == 200
    verdict = response.json()
    assert verdict["verified"] is False
    first = verdict["checks"][0]
    assert first["check"] == "record hash" and first["outcome"] == "failed"
    assert first["expected"] == shared.bundle["recordHash"]
    assert verdict["reason"] == (
        "record hash: the record's EIP-712 hash under the anchor's domain differs from "
        f"recordHash (expected {first['expected']}, got {first['actual']})")


# -- documents that are not bundles -------------------------------------------------------


@chain_independent
@pytest.mark.parametrize("body", [b"not json", b"{", b"{'a': 1}", b"\xff\xfe"])
def test_a_body_that_is_not_json_is_refused_422(public: httpx.Client, body: bytes) -> None:
    [(loc, msg)] = validation_errors(post_json_bytes(public, "/v1/verify", body))
    assert (loc[0], msg) == ("body", "JSON decode error")


@chain_independent
def test_an_empty_body_is_refused_422(public: httpx.Client) -> None:
    response = post_json_bytes(public, "/v1/verify", b"")
    assert validation_errors(response) == [(["body"], "Field required")]


@chain_independent
def test_a_body_in_no_text_encoding_is_refused_400(public: httpx.Client) -> None:
    response = post_json_bytes(public, "/v1/verify", b"\xff\xfe\x00")  # odd-length UTF-16
    assert (response.status_code, response.json()) == (400, {
        "type": "about:blank", "title": "Bad Request", "status": 400,
        "detail": "There was an error parsing the body", "error": "BadRequest"})


@chain_independent
@pytest.mark.parametrize("document", [5, -1, 1e300, "bundle", True, None, [], [{}]])
def test_json_that_is_not_an_object_is_refused_422(public: httpx.Client, document: Any) -> None:
    response = post_json_bytes(public, "/v1/verify", json.dumps(document).encode())
    assert ledger_error(response) == (422, "BundleDecodeError",
                                      "a proof bundle must be a JSON object")


@chain_independent
@pytest.mark.parametrize(("document", "detail"), [
    ({"format": "x"}, "format must be 'bindledger.proof/1', got 'x'"),
    ({"format": "bindledger.proof/2"},
     "format must be 'bindledger.proof/1', got 'bindledger.proof/2'"),
    ({"format": 1}, "format must be 'bindledger.proof/1', got 1"),
    ({}, "format must be 'bindledger.proof/1', got None"),
])
def test_a_document_of_another_format_is_refused_422(public: httpx.Client, document: Any,
                                                     detail: str) -> None:
    assert ledger_error(public.post("/v1/verify", json=document)) == (
        422, "BadFormatError", detail)


MEMBERS = ["record", "recordHash", "leafIndex", "treeSize", "inclusionPath", "head",
           "head.treeSize", "head.rootHash", "anchor", "anchor.chainId", "anchor.contract",
           "anchor.platform", "anchor.txHash", "anchor.blockNumber", "anchor.blockHash",
           "anchor.blockTime"]


@chain_independent
@pytest.mark.parametrize("member", MEMBERS)
def test_a_bundle_missing_a_member_is_refused_422_naming_it(
        shared: Shared, public: httpx.Client, member: str) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, REMOVE))
    assert ledger_error(response) == (422, "MissingFieldError", f"missing member {member}")


UINTS = ["leafIndex", "treeSize", "head.treeSize", "anchor.chainId", "anchor.blockNumber",
         "anchor.blockTime"]
HASHES = ["recordHash", "head.rootHash", "anchor.txHash", "anchor.blockHash"]


@chain_independent
@pytest.mark.parametrize("value", [-1, 2**64, 10**30, -(10**30), True])
@pytest.mark.parametrize("member", UINTS)
def test_an_integer_member_out_of_range_is_refused_422(
        shared: Shared, public: httpx.Client, member: str, value: int) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, value))
    assert ledger_error(response) == (422, "FieldValueError",
                                      f"{member} must be an integer in [0, 2^64)")


@chain_independent
@pytest.mark.parametrize("value", ["1", 1.0, None, [1]])
@pytest.mark.parametrize("member", UINTS)
def test_an_integer_member_of_another_json_type_is_refused_422(
        shared: Shared, public: httpx.Client, member: str, value: Any) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, value))
    assert ledger_error(response) == (422, "FieldValueError", f"{member} must be a JSON integer")


@chain_independent
@pytest.mark.parametrize(("value", "problem"), [
    ("0x" + "ab" * 31, "must be 32 bytes, got 31"),
    ("0x" + "ab" * 33, "must be 32 bytes, got 33"),
    ("0x", "must be 32 bytes, got 0"),
    ("0x" + "a" * 63, "must be 0x-prefixed hex, got '0x" + "a" * 63 + "'"),
    ("ab" * 32, "must be 0x-prefixed hex, got '" + "ab" * 32 + "'"),
    ("0x" + "gg" * 32, "must be 0x-prefixed hex, got '0x" + "g" * 64 + "'"),
])
@pytest.mark.parametrize("member", HASHES)
def test_a_hash_member_that_is_not_32_bytes_of_hex_is_refused_422(
        shared: Shared, public: httpx.Client, member: str, value: str, problem: str) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, value))
    assert ledger_error(response) == (422, "FieldValueError", f"{member} {problem}")


@chain_independent
@pytest.mark.parametrize("member", HASHES)
def test_a_hash_member_that_is_not_a_string_is_refused_422(
        shared: Shared, public: httpx.Client, member: str) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, 5))
    assert ledger_error(response) == (422, "FieldValueError", f"{member} must be a JSON string")


@chain_independent
@pytest.mark.parametrize("value", ["0x1234", "0x" + "zz" * 20, "not an address", "0x" + "00" * 21])
@pytest.mark.parametrize("member", ["anchor.contract", "anchor.platform"])
def test_an_address_member_that_is_not_an_address_is_refused_422(
        shared: Shared, public: httpx.Client, member: str, value: str) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, value))
    assert ledger_error(response) == (422, "FieldValueError",
                                      f"{member} must be an Ethereum address")


@chain_independent
@pytest.mark.parametrize(("member", "value", "detail"), [
    ("inclusionPath", {}, "inclusionPath must be a JSON array"),
    ("inclusionPath", "0x00", "inclusionPath must be a JSON array"),
    ("inclusionPath", ["0x" + "00" * 31], "inclusionPath[0] must be 32 bytes, got 31"),
    ("inclusionPath", [5], "inclusionPath[0] must be 0x-prefixed hex, got 5"),
    ("inclusionPath", ["0x" + "00" * 32] * 100, "inclusionPath has more than 64 nodes"),
    ("inclusionPath", ["0x" + "00" * 32] * 65, "inclusionPath has more than 64 nodes"),
    ("head", [], "head must be a JSON object"),
    ("anchor", "0x00", "anchor must be a JSON object"),
    ("record", [], "record must be a JSON object"),
    ("record.type", "Loan", (f"record: unknown record type 'Loan'; expected one of "
                             f"{sorted(RECORD_TYPES)}")),
    ("record.signature", REMOVE, "record: record has no signature"),
    ("record.signature", "0x" + "00" * 64, "record: signature must be 65 bytes, got 64"),
    ("record.phone", REMOVE, "record: Verification: missing field(s) ['phone']"),
    ("record.factors", 3, "record: Verification: unknown field(s) ['factors']"),
    ("record.timestamp", -1, ("record: Verification.timestamp must be an integer in [0, 2^64), "
                              "got -1")),
    ("record.timestamp", 10**30, ("record: Verification.timestamp must be an integer in "
                                  "[0, 2^64), got 1000000000000000000000000000000")),
    ("record.method", "PIN", ("record: Verification.method must be one of ['SMS_OTP', "
                              "'LIVENESS', 'CARRIER_MATCH', 'SIM_SWAP_CHECK'], got 'PIN'")),
    ("record.passed", 1, "record: Verification.passed must be true or false, got 1"),
])
def test_a_malformed_member_is_refused_422_naming_the_problem(
        shared: Shared, public: httpx.Client, member: str, value: Any, detail: str) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, value))
    assert ledger_error(response) == (422, "FieldValueError", detail)


@pytest.mark.parametrize("record_type", [[], {"a": 1}])
def test_a_record_type_that_is_an_array_or_object_is_refused_422(
        shared: Shared, public: httpx.Client, record_type: Any) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, "record.type", record_type))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("member", ["note", "head.note", "anchor.note"])
def test_a_bundle_with_an_unknown_member_is_refused_422(
        shared: Shared, public: httpx.Client, member: str) -> None:
    response = public.post("/v1/verify", json=changed(shared.bundle, member, "x"))
    assert response.status_code == 422, response.text


def test_a_body_larger_than_a_bundle_can_be_is_refused_with_a_4xx(
        shared: Shared, public: httpx.Client) -> None:
    huge = changed(shared.bundle, "padding", "x" * (4 * 1024 * 1024))
    response = public.post("/v1/verify", json=huge)
    assert response.status_code in (413, 422), response.text[:300]
    assert str(MAX_BUNDLE_BYTES) in response.text


@chain_independent
def test_a_huge_body_of_garbage_is_refused_413_before_parsing(public: httpx.Client) -> None:
    response = public.post("/v1/verify", json={"format": "x" * (4 * 1024 * 1024)})
    status, error, detail = ledger_error(response)
    assert (status, error) == (413, "RequestTooLarge")
    assert detail == f"request body is larger than {MAX_BUNDLE_BYTES} bytes"


@chain_independent
def test_a_long_format_string_is_quoted_only_in_part(public: httpx.Client) -> None:
    response = public.post("/v1/verify", json={"format": "x" * 10_000})
    status, error, detail = ledger_error(response)
    assert (status, error) == (422, "BadFormatError")
    assert detail.startswith("format must be 'bindledger.proof/1', got 'xxxx")
    assert len(detail) < 200  # the reason quotes a bounded excerpt, not the input


# -- the server process survives hostile input ---------------------------------------------

DEPTH = 20_000  # a 40 kB body: within the size limit, far beyond any real nesting


@pytest.fixture
def served_process(tmp_path: Path) -> Iterator[str]:
    """`bindledger serve` as a separate process (embedded chain): a crash must not take the
    test run with it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDLEDGER_")}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "bindledger"), "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"bindledger serve did not start ({proc.returncode})")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_deeply_nested_json_is_refused_and_the_server_keeps_running(
        served_process: str) -> None:
    body = b"[" * DEPTH + b"]" * DEPTH
    try:
        response = httpx.post(served_process + "/v1/verify", content=body, timeout=30,
                              headers={"Content-Type": "application/json"})
        status = response.status_code
    except httpx.TransportError as exc:
        status = f"no response: {exc!r}"  # type: ignore[assignment]
    alive = True
    try:
        httpx.get(served_process + "/healthz", timeout=5)
    except httpx.TransportError:
        alive = False
    assert (status, alive) == (422, True)



# -- fuzz ---------------------------------------------------------------------------------


def _verdict_or_reason(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body["verified"], bool) and body["reason"]
    else:
        assert body["detail"], response.text  # a refusal always says why


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_values())
def test_random_json_posted_for_verification_never_gets_a_5xx(shared: Shared,
                                                              document: Any) -> None:
    with client(shared.url, None) as public:
        _verdict_or_reason(public.post("/v1/verify", json=document))


BUNDLE_MEMBERS = MEMBERS + ["format", "record.type", "record.platform", "record.subject",
                            "record.prev", "record.timestamp", "record.method", "record.passed",
                            "record.phone", "record.signature", "inclusionPath"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(member=st.sampled_from(BUNDLE_MEMBERS), value=json_values(6))
def test_a_bundle_with_one_member_replaced_by_random_json_never_gets_a_5xx(
        shared: Shared, member: str, value: Any) -> None:
    document = changed(shared.bundle, member, value)
    with client(shared.url, None) as public:
        _verdict_or_reason(public.post("/v1/verify", json=document))
