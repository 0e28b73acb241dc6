"""One error shape everywhere: RFC 9457 problem details (`application/problem+json`) with
`type`, `title`, `status`, `detail` and `error`, whichever layer refused. And the OpenAPI
document that says so: every status with its body, the hash and address patterns, behind a key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.shapes import ADDRESS, BYTES32
from ledger.config import DEV_ADMIN_API_KEY, DEV_REGULATOR_API_KEY, Settings
from tests.api.conftest import Shared, chain_independent
from tests.support.api import API_KEY_A, API_KEY_B, VERIFICATION, client

pytestmark = chain_independent

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "error"}


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem details of an error answer, checked for the members every one has."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert PROBLEM_MEMBERS <= body.keys(), body
    assert (body["type"], body["status"]) == ("about:blank", response.status_code)
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


@pytest.fixture
def a(shared: Shared) -> Iterator[httpx.Client]:
    with client(shared.url, API_KEY_A) as c:
        yield c


def test_a_missing_key_is_a_401_problem_with_a_challenge(shared: Shared) -> None:
    with client(shared.url, None) as anonymous:
        response = anonymous.get(f"/v1/records/{shared.record_a}")
    assert problem(response) == {
        "type": "about:blank", "title": "Unauthorized", "status": 401,
        "detail": "missing X-API-Key header", "error": "Unauthorized"}
    assert response.headers["WWW-Authenticate"] == "APIKey"


def test_a_role_refused_is_a_403_problem(shared: Shared) -> None:
    with client(shared.url, DEV_REGULATOR_API_KEY) as regulator:
        body = problem(regulator.post("/v1/records", json=VERIFICATION))
    assert (body["title"], body["error"]) == ("Forbidden", "Forbidden")
    assert body["detail"] == (
        "this route needs a platform's API key; the key given is a regulator's")


def test_a_ledger_error_is_a_problem_named_by_its_class(a: httpx.Client) -> None:
    body = problem(a.get("/v1/records/999999"))
    assert (body["status"], body["error"], body["detail"]) == (
        404, "RecordNotFoundError", "no record with id 999999")


def test_another_platforms_record_is_the_same_404_as_none_byte_for_byte(
        shared: Shared, a: httpx.Client) -> None:
    theirs = a.get(f"/v1/records/{shared.record_b}")
    none = a.get("/v1/records/999999")
    assert theirs.status_code == none.status_code == 404
    assert theirs.content == none.content.replace(b"999999", str(shared.record_b).encode())
    assert theirs.headers["content-type"] == none.headers["content-type"]
    assert theirs.headers["content-length"] == str(
        int(none.headers["content-length"]) - len("999999") + len(str(shared.record_b)))


def test_a_malformed_request_is_a_422_problem_listing_each_field(a: httpx.Client) -> None:
    body = problem(a.post("/v1/records", json={**VERIFICATION, "passed": "maybe",
                                                 "phone": ""}))
    assert body["error"] == "RequestValidationError"
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "Verification", "passed"], "bool_type"),
        (["body", "Verification", "phone"], "string_too_short")]
    assert body["detail"] == (
        "body.Verification.passed: Input should be a valid boolean (and 1 more)")
    assert "maybe" not in str(body)  # the offending input is never echoed


def test_an_unknown_route_is_a_404_problem(a: httpx.Client) -> None:
    body = problem(a.get("/v1/nothing-here"))
    assert (body["error"], body["detail"]) == ("NotFound", "Not Found")


def test_a_method_a_path_does_not_take_is_a_405_naming_every_method_it_takes(
        a: httpx.Client) -> None:
    response = a.delete("/v1/records")
    body = problem(response)
    assert response.headers["Allow"] == "GET, POST"
    assert (body["error"], body["detail"]) == (
        "MethodNotAllowed", "DELETE is not taken here; this path takes GET, POST")


def test_no_path_of_a_record_is_taken_for_a_record_id(a: httpx.Client) -> None:
    # /v1/records/signed takes POST only: GET is not "signed is not an integer".
    response = a.get("/v1/records/signed")
    assert (problem(response)["status"], response.headers["Allow"]) == (405, "POST")


def test_a_body_too_large_is_a_413_problem(a: httpx.Client) -> None:
    body = problem(a.post("/v1/records", content=b" " * (64 * 1024 + 1),
                          headers={"Content-Type": "application/json"}))
    assert (body["error"], body["detail"]) == (
        "RequestTooLarge", "request body is larger than 65536 bytes")


@pytest.mark.parametrize("path", ["/v1/records", "/v1/verify", "/v1/verify/timeline",
                                  "/v1/subjects/records", "/v1/loans", "/v1/freezes"])
@pytest.mark.parametrize(("content_type", "named"), [
    ("text/plain", "Content-Type text/plain"), (None, "no Content-Type"),
    ("application/x-www-form-urlencoded", "Content-Type application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_json_is_a_415_problem(
        a: httpx.Client, path: str, content_type: str | None, named: str) -> None:
    request = a.build_request("POST", path, content=b'{"type": "Verification"}')
    if content_type is None:
        request.headers.pop("Content-Type", None)
    else:
        request.headers["Content-Type"] = content_type
    body = problem(a.send(request))
    assert (body["status"], body["error"], body["detail"]) == (
        415, "UnsupportedMediaTypeError", f"the body must be application/json, got {named}")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                          "application/merge-patch+json"])
def test_json_by_any_of_its_names_is_taken(a: httpx.Client, content_type: str) -> None:
    response = a.post("/v1/records", content=b'{"type": "Nothing"}',
                      headers={"Content-Type": content_type})
    assert problem(response)["status"] == 422  # read, and refused for what it says


def test_a_route_with_an_optional_body_takes_none(shared: Shared, a: httpx.Client) -> None:
    response = a.post("/v1/anchor")  # no body, no Content-Type
    assert response.status_code == 200, response.text


def test_a_contract_refusal_is_a_problem_with_the_rule_and_its_facts(
        a: httpx.Client, subject_id: str) -> None:
    month = 30 * 24 * 3600
    created = a.post("/v1/loans", json={
        "subjectId": subject_id, "loanId": "LOAN-1",
        "dueTimes": [int(time.time()) + month], "amounts": [300]})
    assert created.status_code == 201, created.text
    body = problem(a.post(f"/v1/loans/{created.json()['id']}/disburse", json={"amount": 300}))
    assert (body["status"], body["error"], body["rule"], body["reason"]) == (
        422, "RuleRefusedError", "R1", "RiskRulesNoActiveBinding")
    assert body["detail"].startswith("R1: the contract refused the call: RiskRulesNoActiveBinding")
    assert body["facts"].keys() == {"subject"} and "evidence" in body


# --- The document ------------------------------------------------------------------------------


def document(shared: Shared, key: str = API_KEY_A) -> dict[str, Any]:
    with client(shared.url, key) as c:
        response = c.get("/openapi.json")
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_the_document_and_its_viewer_need_a_key(shared: Shared, path: str) -> None:
    with client(shared.url, None) as anonymous, client(shared.url, "no-such-key") as stranger:
        missing, unknown = anonymous.get(path), stranger.get(path)
    assert (problem(missing)["detail"], problem(unknown)["detail"]) == (
        "missing X-API-Key header", "unknown API key")
    assert missing.status_code == unknown.status_code == 401


@pytest.mark.parametrize("key", [API_KEY_B, DEV_REGULATOR_API_KEY, DEV_ADMIN_API_KEY],
                         ids=["platform", "regulator", "admin"])
def test_a_key_of_any_role_reads_the_document_and_its_viewer(shared: Shared, key: str) -> None:
    with client(shared.url, key) as c:
        viewer = c.get("/docs")
    assert viewer.status_code == 200 and '"openapi": "3.1.0"' in viewer.text
    assert viewer.headers["content-type"].startswith("text/html")
    assert document(shared, key)["info"]["title"] == "BindLedger"


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_names_its_401_and_503(shared: Shared) -> None:
    for name, operation in operations(document(shared)):
        assert {"401", "503"} <= operation["responses"].keys(), name


def test_every_operation_with_a_body_names_its_400_413_415_and_422(shared: Shared) -> None:
    for name, operation in operations(document(shared)):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            assert {"400", "413", "415", "422"} <= operation["responses"].keys(), name


def test_only_the_public_verification_routes_name_a_429(shared: Shared) -> None:
    named = {name for name, operation in operations(document(shared))
             if "429" in operation["responses"]}
    assert named == {"POST /v1/verify", "POST /v1/verify/timeline", "GET /v1/heads/latest"}


def test_every_error_answer_is_a_problem_but_the_health_report(shared: Shared) -> None:
    doc = document(shared)
    for name, operation in operations(doc):
        for code, response in operation["responses"].items():
            if int(code) < 400 or name == "GET /healthz":
                continue
            assert list(response["content"]) == ["application/problem+json"], (name, code)
    health = doc["paths"]["/healthz"]["get"]["responses"]["503"]["content"]
    assert health["application/json"]["schema"]["$ref"] == "#/components/schemas/Health"


# Members and parameters holding 32 bytes or an address, whatever the model they are in.
BYTES32_NAMES = {"recordHash", "rootHash", "txHash", "blockHash", "subject", "loan", "loanId",
                 "phone", "head", "holder", "commitment", "policyHash", "ref", "loan_id",
                 "dispute_id", "hash"}
ADDRESS_NAMES = {"platform", "contract", "regulator"}
# Raw identifiers of drafts, which BindLedger keys: a loan number, phone numbers.
RAW = {("LoanDraft", "loanId"), ("BindingDraft", "phone"), ("VerificationDraft", "phone")}


def patterns(schema: dict[str, Any]) -> set[str]:
    found = {schema["pattern"]} if "pattern" in schema else set()
    for alternative in schema.get("anyOf", []):
        found |= patterns(alternative)
    return found


def test_every_hash_and_address_member_has_its_pattern(shared: Shared) -> None:
    doc = document(shared)
    checked = 0
    for model, schema in doc["components"]["schemas"].items():
        for member, value in schema.get("properties", {}).items():
            if (model, member) in RAW:
                continue
            if member in BYTES32_NAMES:
                assert patterns(value) == {BYTES32}, (model, member)
                checked += 1
            if member in ADDRESS_NAMES:
                assert patterns(value) == {ADDRESS}, (model, member)
                checked += 1
    assert checked > 40


def test_every_hash_and_address_parameter_has_its_pattern(shared: Shared) -> None:
    checked = 0
    for name, operation in operations(document(shared)):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in BYTES32_NAMES:
                assert patterns(parameter["schema"]) == {BYTES32}, (name, parameter["name"])
                checked += 1
            if parameter["name"] in ADDRESS_NAMES:
                # heads/latest takes an empty filter too, as no filter
                assert patterns(parameter["schema"]) & {ADDRESS, "^(0x[0-9a-fA-F]{40})?$"}, (
                    name, parameter["name"])
                checked += 1
    assert checked > 15


def test_the_patterns_are_those_the_routes_take(a: httpx.Client) -> None:
    assert re.fullmatch(BYTES32, "0x" + "aB" * 32) and not re.fullmatch(BYTES32, "0x" + "a" * 63)
    assert re.fullmatch(ADDRESS, "0x" + "aB" * 20) and not re.fullmatch(ADDRESS, "0x" + "a" * 41)
    response = a.get("/v1/subjects/0xabc/binding")
    assert problem(response)["errors"][0]["loc"] == ["path", "ref"]


def test_the_app_document_is_the_one_served(shared: Shared) -> None:
    app = create_app(Settings(chain="embedded"))
    served = document(shared)
    assert served["paths"].keys() == app.openapi()["paths"].keys()
