"""Who may call what: every route of the API, the roles whose API key it admits, and the answer
to everyone else.

- A platform writes its own records and reads its own; it seals and anchors its own log now.
- A regulator reads and verifies every platform's records, and freezes; it writes nothing else.
- An admin operates the service: seals and anchors every platform's log now, reads the
  service's status, and reads records as a regulator does; it writes no records, freezes nothing.
- Verification needs no key at all (PUBLIC), so that it needs to trust no one.

No key on a route that needs one is a 401 naming the header; a key no one holds is a 401 on
every route, public ones included; a key of a role the route does not admit is a 403 naming
the roles it needs and the key's. The key is checked before anything else of the request
(path, query, body) is validated: the requests below carry `{}` or ids of nothing, and still
get their 401 or 403.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from eth_account import Account
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.auth import Role
from api.main import create_app
from ledger.config import DEV_ACCESS_LOG_KEY, DEV_ADMIN_API_KEY, DEV_REGULATOR_API_KEY
from ledger.service import Ledger
from tests.api.conftest import Shared, chain_independent
from tests.support.api import (
    ADDRESS_A,
    ADDRESS_B,
    API_KEY_A,
    VERIFICATION,
    client,
    http_error,
)

PLATFORM, REGULATOR, ADMIN = Role.PLATFORM, Role.REGULATOR, Role.ADMIN
PUBLIC = "public"  # no key needed; a key that is sent must still be known
READERS = {PLATFORM, REGULATOR, ADMIN}  # a platform reads only its own records

ACCESS: dict[tuple[str, str], set[Role] | str] = {
    # Evidence: a platform writes; every role reads (a platform its own).
    ("POST", "/v1/records"): {PLATFORM},
    ("POST", "/v1/records/signed"): {PLATFORM},
    ("POST", "/v1/records/signed/batch"): {PLATFORM},
    ("GET", "/v1/records"): READERS,
    ("GET", "/v1/records/{record_id:record_id}"): READERS,
    ("GET", "/v1/records/{record_id:record_id}/proof"): READERS,
    ("GET", "/v1/subjects/{ref}/timeline"): READERS,
    ("GET", "/v1/loans/{loan_id}/timeline"): READERS,
    # The evidence vault: a platform attaches; the platform and regulators read and erase.
    ("POST", "/v1/records/{record_id:record_id}/evidence"): {PLATFORM},
    ("GET", "/v1/records/{record_id:record_id}/evidence"): {PLATFORM, REGULATOR},
    ("POST", "/v1/subjects/{ref}/erasure"): {PLATFORM, REGULATOR},
    ("GET", "/v1/subjects/{ref}/export"): {PLATFORM, REGULATOR},
    ("GET", "/v1/logs/{platform}/checkpoint"): READERS,
    ("GET", "/v1/logs/{platform}/tile/{path:path}"): READERS,
    # Anchoring now: a platform its own log, an admin every platform's.
    ("POST", "/v1/anchor"): {PLATFORM, ADMIN},
    # Rules: a platform writes; every role reads (a platform its own).
    ("POST", "/v1/subjects/records"): {PLATFORM},
    ("POST", "/v1/subjects/records/signed"): {PLATFORM},
    ("GET", "/v1/subjects/{ref}/binding"): READERS,
    ("GET", "/v1/phones/{ref}/signals"): {PLATFORM, REGULATOR},
    ("POST", "/v1/loans"): {PLATFORM},
    ("POST", "/v1/loans/{loan_id}/disburse"): {PLATFORM},
    ("POST", "/v1/loans/{loan_id}/repayments"): {PLATFORM},
    ("POST", "/v1/loans/{loan_id}/channel"): {PLATFORM},
    ("POST", "/v1/loans/{loan_id}/contacts"): {PLATFORM},
    ("GET", "/v1/loans/{loan_id}/risk"): READERS,
    ("POST", "/v1/disputes"): {PLATFORM},
    ("POST", "/v1/disputes/{dispute_id}/close"): {PLATFORM},
    ("POST", "/v1/freezes"): {REGULATOR},
    # Risk warnings: a platform releases the model and scores its subjects.
    ("POST", "/v1/risk/releases"): {PLATFORM},
    ("POST", "/v1/subjects/{ref}/risk"): {PLATFORM},
    # Operations.
    ("GET", "/v1/admin/status"): {ADMIN},
    # The API's own description: for every key holder (the document lists what keys may do).
    ("GET", "/openapi.json"): READERS,
    ("GET", "/docs"): READERS,
    # Verification and the service's public face.
    ("POST", "/v1/verify"): PUBLIC,
    ("POST", "/v1/verify/timeline"): PUBLIC,
    ("GET", "/v1/heads/latest"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/verify"): PUBLIC,
    ("GET", "/static/{name}"): PUBLIC,
}

ACCESS_LOG = str(Account.from_key(DEV_ACCESS_LOG_KEY).address)
KEYS = {PLATFORM: API_KEY_A, REGULATOR: DEV_REGULATOR_API_KEY, ADMIN: DEV_ADMIN_API_KEY}
POSSESSIVE = {PLATFORM: "a platform's", REGULATOR: "a regulator's", ADMIN: "an admin's"}

# Valid-looking path parameters that name nothing in particular.
PATH_VALUES = {"record_id": "1", "ref": "0x" + "ab" * 32, "loan_id": "0x" + "ab" * 32,
               "dispute_id": "0x" + "ab" * 32, "name": "verifier.js", "platform": ADDRESS_A,
               "path": "0/000"}

ROUTES = sorted(ACCESS)
PROTECTED = [route for route in ROUTES if ACCESS[route] != PUBLIC]
OPEN = [route for route in ROUTES if ACCESS[route] == PUBLIC]


def allowed(route: tuple[str, str]) -> set[Role]:
    access = ACCESS[route]
    return set(Role) if access == PUBLIC else set(access)


def cases(admitted: bool) -> list[Any]:
    """(route, role) pairs whose role the route admits (or, with False, refuses)."""
    return [pytest.param(route, role, id=f"{route[0]} {route[1]} as {role}")
            for route in ROUTES for role in Role if (role in allowed(route)) == admitted]


def route_ids(routes: list[tuple[str, str]]) -> list[str]:
    return [f"{method} {path}" for method, path in routes]


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route of the app, however its routers are included."""
    return {(method, context.path)
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            for method in context.methods or ()}


# Evidence is attached to record 1 by the POST case: the GET case reads record 2, which has
# none, so that neither answer depends on the order the cases run in.
PATH_VALUES_OF = {("GET", "/v1/records/{record_id:record_id}/evidence"): {"record_id": "2"}}


def send(url: str, route: tuple[str, str], key: str | None) -> httpx.Response:
    method, template = route
    values = {**PATH_VALUES, **PATH_VALUES_OF.get(route, {})}
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], template)
    with client(url, key) as c:
        return c.request(method, path, json={} if method == "POST" else None)


def test_the_table_names_every_route_of_the_app() -> None:
    assert served_routes(create_app()) == set(ACCESS)


@chain_independent
@pytest.mark.parametrize("route", PROTECTED, ids=route_ids(PROTECTED))
@pytest.mark.parametrize("key", [None, ""], ids=["no-header", "empty-header"])
def test_without_a_key_a_route_that_needs_one_is_401(
        shared: Shared, route: tuple[str, str], key: str | None) -> None:
    response = send(shared.url, route, key)
    assert http_error(response) == (401, "missing X-API-Key header")
    assert response.headers["WWW-Authenticate"] == "APIKey"


@chain_independent
@pytest.mark.parametrize("route", ROUTES, ids=route_ids(ROUTES))
@pytest.mark.parametrize("key", ["not-a-key", API_KEY_A + "x", API_KEY_A[:-1]],
                         ids=["stranger", "longer", "shorter"])
def test_a_key_no_one_holds_is_401_on_every_route_public_ones_included(
        shared: Shared, route: tuple[str, str], key: str) -> None:
    response = send(shared.url, route, key)
    assert http_error(response) == (401, "unknown API key")


@chain_independent
@pytest.mark.parametrize(("route", "role"), cases(admitted=False))
def test_a_role_the_route_does_not_admit_is_403_naming_the_role_needed(
        shared: Shared, route: tuple[str, str], role: Role) -> None:
    needed = " or ".join(POSSESSIVE[r] for r in Role if r in allowed(route))
    assert http_error(send(shared.url, route, KEYS[role])) == (
        403, f"this route needs {needed} API key; the key given is {POSSESSIVE[role]}")


# What each admitted caller is answered once past the key check, for the requests `send` makes
# (`{}` as body, path values naming nothing but the shared server's first record, platform A's):
# (status, a fragment of the body only the route itself writes). An exact answer per caller, so a
# route that refuses a rightful caller in any way (404, 409, 422, ...) fails here.
Answer = tuple[int, str]
MISSING_FIELD = '"msg":"Field required"'
NO_DISCRIMINATOR = "Unable to extract tag using discriminator 'type'"
UNKNOWN_TYPE = "unknown record type None"
SEVERAL_PLATFORMS = "several platforms are served here: say which with ?platform="
ADMITTED_ANSWERS: dict[tuple[str, str], Answer | dict[Role, Answer]] = {
    ("POST", "/v1/records"): (422, NO_DISCRIMINATOR),
    ("POST", "/v1/records/signed"): (422, UNKNOWN_TYPE),
    ("POST", "/v1/records/signed/batch"): (422, 'with 1 to 100 records'),
    ("GET", "/v1/records/{record_id:record_id}"): (200, '"id":1,'),
    ("GET", "/v1/records/{record_id:record_id}/proof"): (200, '"format":"bindledger.proof/1"'),
    ("GET", "/v1/records"): (422, '"loc":["query","hash"],"msg":"Field required"'),
    ("POST", "/v1/records/{record_id:record_id}/evidence"): (201, '"mediaType":"application/json","size":2'),
    ("GET", "/v1/records/{record_id:record_id}/evidence"): {
        PLATFORM: (404, "record 2 has no evidence"), REGULATOR: (404, "record 2 has no evidence")},
    ("POST", "/v1/subjects/{ref}/erasure"): {
        PLATFORM: (404, '"error":"NothingToEraseError"'), REGULATOR: (422, SEVERAL_PLATFORMS)},
    ("GET", "/v1/subjects/{ref}/export"): {
        PLATFORM: (404, "no records of this subject here"), REGULATOR: (422, SEVERAL_PLATFORMS)},
    ("GET", "/v1/logs/{platform}/checkpoint"): (200, '"format":"bindledger.checkpoint/1"'),
    ("GET", "/v1/logs/{platform}/tile/{path:path}"): (
        404, "its tiles there: tile/0/000.p/2"),
    ("GET", "/v1/phones/{ref}/signals"): (200, '"holderNumberReused":false'),
    ("GET", "/v1/subjects/{ref}/timeline"): {
        PLATFORM: (404, "no records of this subject here"),
        # A reader of every platform's records must say whose timeline it wants.
        REGULATOR: (422, SEVERAL_PLATFORMS), ADMIN: (422, SEVERAL_PLATFORMS)},
    ("GET", "/v1/loans/{loan_id}/timeline"): {
        PLATFORM: (404, "holds no loan 0x" + "ab" * 32),
        REGULATOR: (404, "this ledger holds no loan"), ADMIN: (404, "this ledger holds no loan")},
    ("POST", "/v1/anchor"): (200, '"heads":'),
    ("POST", "/v1/subjects/records"): (422, NO_DISCRIMINATOR),
    ("POST", "/v1/subjects/records/signed"): (422, UNKNOWN_TYPE),
    ("GET", "/v1/subjects/{ref}/binding"): {
        PLATFORM: (200, '"bound":false'),
        REGULATOR: (422, SEVERAL_PLATFORMS), ADMIN: (422, SEVERAL_PLATFORMS)},
    ("POST", "/v1/loans"): (422, MISSING_FIELD),
    ("POST", "/v1/loans/{loan_id}/disburse"): (422, MISSING_FIELD),
    ("POST", "/v1/loans/{loan_id}/repayments"): (422, MISSING_FIELD),
    ("POST", "/v1/loans/{loan_id}/channel"): (422, MISSING_FIELD),
    ("POST", "/v1/loans/{loan_id}/contacts"): (422, MISSING_FIELD),
    ("GET", "/v1/loans/{loan_id}/risk"): (404, "no LoanCreation record 0x" + "ab" * 32),
    ("POST", "/v1/disputes"): (422, MISSING_FIELD),
    ("POST", "/v1/disputes/{dispute_id}/close"): (404, "no Dispute record 0x" + "ab" * 32),
    ("POST", "/v1/freezes"): (422, '"loc":["body","platform"],"msg":"Field required"'),
    ("GET", "/v1/admin/status"): (200, '"platforms":'),
    ("POST", "/v1/risk/releases"): (409, "no risk model is configured here"),
    ("POST", "/v1/subjects/{ref}/risk"): (409, "no risk model is configured here"),
    ("GET", "/openapi.json"): (200, '"openapi":"3.1.0"'),
    ("GET", "/docs"): (200, "<title>BindLedger API</title>"),
    ("POST", "/v1/verify"): (422, "format must be 'bindledger.proof/1', got None"),
    ("POST", "/v1/verify/timeline"): (422, "format must be 'bindledger.timeline/1', got None"),
    ("GET", "/v1/heads/latest"): (200, '"heads":'),
    ("GET", "/healthz"): (200, '"status":"ok"'),
    ("GET", "/verify"): (200, "<title>BindLedger"),
    ("GET", "/static/{name}"): (200, "Generated by scripts/build_verifier.py"),
}


def admitted_answer(route: tuple[str, str], caller: Role | None) -> Answer:
    """The answer to `caller` (None: no key, on a public route, whose answer is everyone's)."""
    answer = ADMITTED_ANSWERS[route]
    if isinstance(answer, dict):
        assert caller is not None, f"{route} answers by role, so it cannot be public"
        return answer[caller]
    return answer


def test_the_answer_table_names_every_route() -> None:
    assert set(ADMITTED_ANSWERS) == set(ACCESS)


@chain_independent
@pytest.mark.parametrize(("route", "role"), cases(admitted=True))
def test_a_role_the_route_admits_gets_the_routes_own_answer(
        shared: Shared, route: tuple[str, str], role: Role) -> None:
    response = send(shared.url, route, KEYS[role])
    status, fragment = admitted_answer(route, role)
    assert response.status_code == status, response.text
    assert fragment in response.text, response.text


@chain_independent
@pytest.mark.parametrize("route", OPEN, ids=route_ids(OPEN))
def test_a_public_route_needs_no_key(shared: Shared, route: tuple[str, str]) -> None:
    response = send(shared.url, route, None)
    status, fragment = admitted_answer(route, None)
    assert response.status_code == status, response.text
    assert fragment in response.text, response.text


@chain_independent
def test_a_key_of_bytes_beyond_ascii_is_unknown_not_an_error(shared: Shared) -> None:
    response = httpx.get(f"{shared.url}/v1/records/1", headers={"X-API-Key": b"cl\xe9"})
    assert http_error(response) == (401, "unknown API key")


@chain_independent
def test_the_key_is_checked_before_the_request_is_validated(shared: Shared) -> None:
    bad_path, bad_body = "/v1/loans/0x12/disburse", {"amount": "much"}
    with client(shared.url, None) as anonymous, client(shared.url, DEV_REGULATOR_API_KEY) as r:
        assert http_error(anonymous.post(bad_path, json=bad_body)) == (
            401, "missing X-API-Key header")
        assert http_error(r.post(bad_path, json=bad_body))[0] == 403
        assert http_error(anonymous.get("/v1/records/not-an-id"))[0] == 401


# --- What each role's admission means ----------------------------------------------------------


def write(c: httpx.Client, count: int) -> list[int]:
    ids = []
    for i in range(count):
        response = c.post("/v1/records", json={**VERIFICATION, "subjectId": f"S-{i}"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


embedded_only = pytest.mark.parametrize("chain", ["embedded"], indirect=True)


@embedded_only
def test_an_admin_anchors_every_platforms_records_and_reads_the_status(
        api_url: str, api_a: httpx.Client, api_b: httpx.Client) -> None:
    write(api_a, 2)
    write(api_b, 1)
    with client(api_url, DEV_ADMIN_API_KEY) as admin:
        before = admin.get("/v1/admin/status")
        assert before.status_code == 200, before.text
        assert before.json() == {"worker": None, "platforms": [  # run_worker=False
            {"platform": ADDRESS_A, "name": "lender-a", "pending": 2, "unanchored": 2,
             "sealedTreeSize": None, "anchoredTreeSize": None},
            {"platform": ADDRESS_B, "name": "lender-b", "pending": 1, "unanchored": 1,
             "sealedTreeSize": None, "anchoredTreeSize": None},
            # BindLedger's access log is anchored like a platform's log (nothing read yet).
            {"platform": ACCESS_LOG, "name": "bindledger-access-log", "pending": 0,
             "unanchored": 0, "sealedTreeSize": None, "anchoredTreeSize": None},
        ]}
        heads = admin.post("/v1/anchor").json()["heads"]
        assert {(h["platform"], h["treeSize"], h["state"]) for h in heads} == {
            (ADDRESS_A, 2, "FINAL"), (ADDRESS_B, 1, "FINAL")}
        after = admin.get("/v1/admin/status").json()["platforms"]
        assert [(p["pending"], p["unanchored"], p["sealedTreeSize"], p["anchoredTreeSize"])
                for p in after] == [(0, 0, 2, 2), (0, 0, 1, 1), (0, 0, None, None)]


@embedded_only
def test_a_platform_anchors_only_its_own_log(
        api_a: httpx.Client, api_b: httpx.Client) -> None:
    write(api_a, 1)
    write(api_b, 1)
    assert [h["platform"] for h in api_a.post("/v1/anchor").json()["heads"]] == [ADDRESS_A]


@embedded_only
def test_a_regulator_or_an_admin_reads_any_platforms_records_a_platform_its_own(
        api_url: str, api_a: httpx.Client, api_b: httpx.Client, ledger_: Ledger) -> None:
    [record_id] = write(api_a, 1)
    api_a.post("/v1/anchor")
    own = api_a.get(f"/v1/records/{record_id}").json()
    assert api_b.get(f"/v1/records/{record_id}").status_code == 404  # not even its existence
    for key in (DEV_REGULATOR_API_KEY, DEV_ADMIN_API_KEY):
        with client(api_url, key) as reader:
            assert reader.get(f"/v1/records/{record_id}").json() == own
            proof = reader.get(f"/v1/records/{record_id}/proof")
            assert proof.status_code == 200 and proof.json()["format"] == "bindledger.proof/1"


@embedded_only
def test_a_subjects_binding_is_read_at_the_platform_a_regulator_names(
        api_url: str, api_a: httpx.Client, api_b: httpx.Client, ledger_: Ledger) -> None:
    ref = "0x" + ledger_.refs.subject("S-1").hex()
    path = f"/v1/subjects/{ref}/binding"
    with client(api_url, DEV_REGULATOR_API_KEY) as regulator:
        assert http_error(regulator.get(path)) == (
            422, "several platforms are served here: say which with ?platform=")
        response = regulator.get(path, params={"platform": ADDRESS_B})
        assert response.status_code == 200, response.text
        assert response.json() == api_b.get(path).json()
    assert http_error(api_a.get(path, params={"platform": ADDRESS_B})) == (
        403, "a platform reads only its own subjects' records: leave out ?platform=")
    assert api_a.get(path, params={"platform": ADDRESS_A}).status_code == 200
