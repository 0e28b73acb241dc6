"""What the API tests share: two platforms, one draft of each record type, HTTP clients, and
readers of the API's error bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx
from eth_account import Account

# anvil's and Hardhat's development accounts #1 and #2: funded on anvil from the start.
KEY_A = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
KEY_B = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
ADDRESS_A = str(Account.from_key(KEY_A).address)
ADDRESS_B = str(Account.from_key(KEY_B).address)
API_KEY_A = "platform-a-api-key"
API_KEY_B = "platform-b-api-key"
TWO_PLATFORMS = json.dumps([
    {"name": "lender-a", "key": KEY_A, "apiKey": API_KEY_A},
    {"name": "lender-b", "key": KEY_B, "apiKey": API_KEY_B},
])
POLICY_HASH = "0x" + "ab" * 32

# One draft of each type, with raw identifiers as a platform would send them.
BINDING: dict[str, Any] = {
    "type": "Binding", "subjectId": "110105199001011234", "action": "BIND",
    "phone": "138 0013 8000", "accountId": "LOAN-0001", "factors": ["SMS_OTP", "LIVENESS"],
}
VERIFICATION: dict[str, Any] = {
    "type": "Verification", "subjectId": "110105199001011234", "method": "SMS_OTP",
    "passed": True, "phone": "+86 138 0013 8000",
}
CONSENT: dict[str, Any] = {
    "type": "Consent", "subjectId": "110105199001011234", "action": "GIVEN",
    "purpose": "LENDING", "policyHash": POLICY_HASH, "expiresAt": 2_000_000_000,
}
DRAFTS = {"Binding": BINDING, "Verification": VERIFICATION, "Consent": CONSENT}


def client(base_url: str, api_key: str | None = API_KEY_A) -> httpx.Client:
    """A client of the API as platform `api_key` (none when None).

    Plain HTTP on loopback: `verify=False` only skips building a TLS context (50 ms a client).
    """
    headers = {"X-API-Key": api_key} if api_key is not None else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30, verify=False,
                        event_hooks={"response": [wait_for_server_error_log]})


def wait_for_server_error_log(response: httpx.Response) -> None:
    """After a 5xx, return only once the server has logged the exception.

    uvicorn logs the traceback in its own thread right after sending the 500. Python 3.11
    parses source lines with `ast` to draw the ^^^ markers of a traceback, and so does
    pytest when it reports a failed or xfailed test; two threads parsing at once can corrupt
    the interpreter's shared AST recursion counter ("SystemError: AST constructor recursion
    depth mismatch", then a pytest INTERNALERROR). A request of our own on a new connection
    is served by the same event loop only after the failed request's task has finished
    logging.
    """
    if response.status_code >= 500:
        httpx.get(str(response.request.url.copy_with(path="/healthz", query=None)),
                  timeout=10, verify=False)


def ledger_error(response: httpx.Response) -> tuple[int, str, str]:
    """(status, error class, detail) of a refusal raised by the ledger."""
    body = response.json()
    return response.status_code, body["error"], body["detail"]


def validation_errors(response: httpx.Response) -> list[tuple[list[Any], str]]:
    """[(location, message)] of a 422 from request validation."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "RequestValidationError", body
    return [(e["loc"], e["msg"]) for e in body["errors"]]


def http_error(response: httpx.Response) -> tuple[int, str]:
    """(status, detail) of an HTTPException raised by a route or a dependency."""
    return response.status_code, response.json()["detail"]


def post_json_bytes(c: httpx.Client, path: str, body: bytes) -> httpx.Response:
    return c.post(path, content=body, headers={"Content-Type": "application/json"})


def json_values(max_leaves: int = 12) -> Any:
    """A hypothesis strategy of arbitrary JSON documents (no NaN: JSON has none)."""
    from hypothesis import strategies as st

    scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=max_leaves,
    )
